import { AppError } from '../errors';
import type { TContext } from '../server/context';
import type { TAdminRole } from '../store/schema';
import type { TTenant } from '../tenants/tenants';
import { isRecentlyVerified, readAdminSession, type TAdminSession } from './admin-session';
import { hasRole } from './roles';

// What a console route needs: nobody ('public': the sign-in and invitation ceremonies), or a
// signed-in admin of at least this role, and for a sensitive action a passkey check within the
// last 5 minutes.
export type TAdminAccess = { role: 'public' } | { role: TAdminRole; isSensitive?: boolean };

export type TAdminAuthorization = { kind: 'ok'; session: TAdminSession | null } | { kind: 'reverify'; session: TAdminSession };

export type AuthorizeAdminOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenant: TTenant;
  cookie: string | undefined;
  access: TAdminAccess;
  now?: number;
};

// The one check every console page, handler and action goes through (lib/http/admin-route.ts,
// lib/admin/load-admin-page.ts). No session: 401. Another tenant's session: 404, as if this
// console did not exist. Too low a role: 403 (an auditor changes nothing). Hiding a button is
// never the check.
export async function authorizeAdmin({
  ctx,
  tenant,
  cookie,
  access,
  now = Date.now(),
}: AuthorizeAdminOptions): Promise<TAdminAuthorization> {
  const state = await readAdminSession({ ctx, tenant, value: cookie, now });
  if (access.role === 'public') return { kind: 'ok', session: state.kind === 'ok' ? state.session : null };
  if (state.kind === 'foreign') throw new AppError('NOT_FOUND', 'Not found');
  if (state.kind === 'none') throw new AppError('UNAUTHORIZED', 'Sign in to the admin console first.');
  if (!hasRole(state.session.admin.role, access.role)) throw new AppError('FORBIDDEN', 'Your role does not allow this.');
  if (access.isSensitive && !isRecentlyVerified(state.session, now)) return { kind: 'reverify', session: state.session };
  return { kind: 'ok', session: state.session };
}
