import { AppError } from '../errors';
import type { TDb } from '../store/db';
import type { TTenant } from '../tenants/tenants';
import { ZConnectorDomain } from './connector-schema';

export type RemoveConnectorOptions = { db: TDb; tenant: Pick<TTenant, 'id' | 'slug'>; domain: string };

export async function removeConnector({
  db,
  tenant,
  domain,
}: RemoveConnectorOptions): Promise<{ tenant: string; domain: string; removed: true }> {
  const parsed = ZConnectorDomain.safeParse(domain);
  if (!parsed.success) throw new AppError('BAD_REQUEST', `Invalid connector: domain: ${parsed.error.issues[0]?.message}`);
  const result = await db.deleteFrom('connectors').where('tenant_id', '=', tenant.id).where('domain', '=', parsed.data).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new AppError('NOT_FOUND', `Tenant ${tenant.slug} has no connector for ${parsed.data}`);
  return { tenant: tenant.slug, domain: parsed.data, removed: true };
}
