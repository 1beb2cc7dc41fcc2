import 'server-only';
import { redirect } from 'next/navigation';
import { getBranding } from '../templates/get-branding';
import { findPageTenant } from '../tenants/load-tenant-page';
import { loadLanding } from '../messages/load-landing';

export type LoadLinkPageOptions = { host: string; token: string };

// Every page of a link before sign-in (/r/<token> and its verify page): the tenant, the landing
// (a link that can no longer be used goes to its own page, with its status), and the branding of
// the template the message was sent with.
export async function loadLinkPage({ host, token }: LoadLinkPageOptions) {
  const { ctx, tenant } = await findPageTenant({ host });
  const landing = await loadLanding({ ctx, tenant, token });
  if (landing.state !== 'ready') redirect(`/r/${token}/gone`);
  const branding = await getBranding(ctx.db, tenant.id, landing.template);
  return { ctx, tenant, landing, branding };
}
