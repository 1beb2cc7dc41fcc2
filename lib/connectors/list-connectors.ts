import type { TDb } from '../store/db';
import type { TConnectorTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';

export type TConnectorView = { domain: string; host: string; tls: TConnectorTable['tls']; tlsName: string | null; internal: boolean };

export const formatConnectorHost = (c: Pick<TConnectorTable, 'host' | 'port'>) =>
  c.host ? `${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port ?? 25}` : 'MX of the recipient domain';

export const toConnectorView = (c: TConnectorTable): TConnectorView => ({
  domain: c.domain,
  host: formatConnectorHost(c),
  tls: c.tls,
  tlsName: c.tls_name,
  internal: c.internal === 1,
});

export type ListConnectorsOptions = { db: TDb; tenant: Pick<TTenant, 'id'> };

export async function listConnectors({ db, tenant }: ListConnectorsOptions): Promise<TConnectorView[]> {
  const rows = await db.selectFrom('connectors').selectAll().where('tenant_id', '=', tenant.id).orderBy('domain').execute();
  return rows.map(toConnectorView);
}
