import 'server-only';
import { getBranding } from '../templates/get-branding';
import { findPageTenant } from '../tenants/load-tenant-page';
import { openForReaderPage } from './open-for-reader-page';

export type LoadMessagePageOptions = { host: string; id: string };

// Every page of a message a reader has open (/m/<id>, its reply and forward pages): the tenant,
// the message opened for this session (or the 401/403/gone page), and the branding of the
// template the message was sent with — its look and its policy, never the tenant's default.
export async function loadMessagePage({ host, id }: LoadMessagePageOptions) {
  const { ctx, tenant } = await findPageTenant({ host });
  const opened = await openForReaderPage({ ctx, tenant, messageId: id });
  const branding = await getBranding(ctx.db, tenant.id, opened.message.template);
  return { ctx, tenant, opened, branding };
}
