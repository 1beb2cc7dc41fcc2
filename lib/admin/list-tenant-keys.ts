import type { TDb } from '../store/db';

export type ListTenantKeysOptions = { db: TDb; tenantId: string };

// Key versions with their dates, newest (current) first: never the keys.
export async function listTenantKeys({ db, tenantId }: ListTenantKeysOptions) {
  const rows = await db
    .selectFrom('tenant_keys')
    .select(['version', 'created_at', 'master_key_id'])
    .where('tenant_id', '=', tenantId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((r, i) => ({ version: r.version, createdAt: Number(r.created_at), masterKeyId: r.master_key_id, isCurrent: i === 0 }));
}
