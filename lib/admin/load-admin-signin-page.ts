import 'server-only';
import { cookies } from 'next/headers';
import { findPageTenant } from '../tenants/load-tenant-page';
import { adminCookieName } from './admin-session';
import { authorizeAdmin } from './authorize-admin';

export type LoadAdminSignInPageOptions = { host: string };

// The console's public pages (sign-in, invitation): the tenant, and the session if there is one.
export async function loadAdminSignInPage({ host }: LoadAdminSignInPageOptions) {
  const { ctx, tenant } = await findPageTenant({ host });
  const cookie = (await cookies()).get(adminCookieName(ctx.config))?.value;
  const { session } = await authorizeAdmin({ ctx, tenant, cookie, access: { role: 'public' } });
  return { ctx, tenant, session };
}
