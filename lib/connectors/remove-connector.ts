import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import type { TTenant } from '../tenants/tenants';
import { ZConnectorDomain } from './connector-schema';
import { toConnectorView } from './list-connectors';

export type RemoveConnectorOptions = { db: TDb; tenant: Pick<TTenant, 'id' | 'slug'>; domain: string; actor?: string; now?: number };

export async function removeConnector({
  db,
  tenant,
  domain,
  actor = 'cli',
  now = Date.now(),
}: RemoveConnectorOptions): Promise<{ tenant: string; domain: string; removed: true }> {
  const parsed = ZConnectorDomain.safeParse(domain);
  if (!parsed.success) throw new AppError('BAD_REQUEST', `Invalid connector: domain: ${parsed.error.issues[0]?.message}`);
  return runTransaction({
    db,
    work: async (trx) => {
      const row = await trx
        .deleteFrom('connectors')
        .where('tenant_id', '=', tenant.id)
        .where('domain', '=', parsed.data)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new AppError('NOT_FOUND', `Tenant ${tenant.slug} has no connector for ${parsed.data}`);
      await recordAudit(trx, {
        tenantId: tenant.id,
        type: 'connector_removed',
        actor,
        data: { domain: parsed.data, before: JSON.stringify(toConnectorView(row)), after: null },
        at: now,
      });
      return { tenant: tenant.slug, domain: parsed.data, removed: true as const };
    },
  });
}
