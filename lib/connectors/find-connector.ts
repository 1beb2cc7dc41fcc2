import type { TDb } from '../store/db';
import type { TConnectorTable } from '../store/schema';
import { DEFAULT_CONNECTOR_DOMAIN } from './connector-schema';

export type FindConnectorOptions = { db: TDb; tenantId: string; domain: string };

// The connector for one recipient domain: its own, else the tenant's default, else none (SMTP_URL).
export async function findConnector({ db, tenantId, domain }: FindConnectorOptions): Promise<TConnectorTable | null> {
  const rows = await db
    .selectFrom('connectors')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('domain', 'in', [domain.toLowerCase(), DEFAULT_CONNECTOR_DOMAIN])
    .execute();
  return rows.find((r) => r.domain !== DEFAULT_CONNECTOR_DOMAIN) ?? rows[0] ?? null;
}
