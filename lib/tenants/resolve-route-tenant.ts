import { AppError } from '../errors';
import { getContext } from '../server/context';
import { getTenantByHost } from './get-tenant-by-host';

// Route handlers' counterpart of loadTenantPage: the rewritten host segment must be a tenant.
export async function resolveRouteTenant({ host }: { host: string }) {
  const ctx = await getContext();
  const tenant = await getTenantByHost({ db: ctx.db, config: ctx.config, host: decodeURIComponent(host) });
  if (!tenant) throw new AppError('NOT_FOUND', 'Not found');
  return { ctx, tenant };
}
