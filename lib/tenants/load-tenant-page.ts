import { notFound } from 'next/navigation';
import { getBranding } from '../templates/get-branding';
import { getTenantByHost } from './get-tenant-by-host';
import { getContext } from '../server/context';

export type LoadTenantPageOptions = { host: string };

// Every tenant page starts here: the host (from the rewrite) must be exactly a tenant's host,
// or the answer is a plain 404 that says nothing about which tenants exist.
export async function findPageTenant({ host }: LoadTenantPageOptions) {
  const ctx = await getContext();
  const tenant = await getTenantByHost({ db: ctx.db, config: ctx.config, host: decodeURIComponent(host) });
  if (!tenant) notFound();
  return { ctx, tenant };
}

// A tenant page about no message in particular, in the tenant's default template. Pages about a
// message use loadLinkPage or loadMessagePage, which bring the message's own template.
export async function loadTenantPage({ host }: LoadTenantPageOptions) {
  const { ctx, tenant } = await findPageTenant({ host });
  const branding = await getBranding(ctx.db, tenant.id);
  return { ctx, tenant, branding };
}
