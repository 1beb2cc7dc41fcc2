import { isAuthHost } from '../auth/federated/auth-host';
import { AppError } from '../errors';
import { getContext } from '../server/context';
import { getTenantByHost } from './get-tenant-by-host';

// The tenant of a request that does not pass through the proxy (POST /open, see proxy.ts): by its
// Host header, as the proxy finds it; the auth host is never a tenant.
export async function resolveRequestTenant({ request }: { request: Request }) {
  const host = request.headers.get('host') ?? '';
  const ctx = await getContext();
  const tenant = isAuthHost(ctx.config, host) ? undefined : await getTenantByHost({ db: ctx.db, config: ctx.config, host });
  if (!tenant) throw new AppError('NOT_FOUND', 'Not found');
  return { ctx, tenant };
}
