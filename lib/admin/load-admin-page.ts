import 'server-only';
import { cookies } from 'next/headers';
import { forbidden, notFound, redirect } from 'next/navigation';
import { isAppError } from '../errors';
import type { TAdminRole } from '../store/schema';
import { findPageTenant } from '../tenants/load-tenant-page';
import { adminCookieName, type TAdminSession } from './admin-session';
import { authorizeAdmin } from './authorize-admin';

export type LoadAdminPageOptions = { host: string; role?: TAdminRole; path: string };

// Every console page starts here, through the same authorizeAdmin as every console route: no
// session goes to the sign-in page (and back to `path` after it), another tenant's session is a
// plain 404. Every role reads every page unless one is named.
export async function loadAdminPage({ host, role = 'auditor', path }: LoadAdminPageOptions) {
  const { ctx, tenant } = await findPageTenant({ host });
  const cookie = (await cookies()).get(adminCookieName(ctx.config))?.value;
  let session: TAdminSession | null;
  try {
    session = (await authorizeAdmin({ ctx, tenant, cookie, access: { role } })).session;
  } catch (error) {
    if (isAppError(error) && error.code === 'UNAUTHORIZED') redirect(`/admin?next=${encodeURIComponent(path)}`);
    if (isAppError(error) && error.code === 'FORBIDDEN') forbidden();
    if (isAppError(error) && error.code === 'NOT_FOUND') notFound();
    throw error;
  }
  return { ctx, tenant, session: session! };
}
