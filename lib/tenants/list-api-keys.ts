import type { TDb } from '../store/db';

export type ListApiKeysOptions = { db: TDb; tenantId: string };

// A tenant's API keys as a list shows them: label, the prefix to recognise one, dates. Never a hash.
export async function listApiKeys({ db, tenantId }: ListApiKeysOptions) {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at'])
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    isRevoked: r.revoked_at !== null,
  }));
}
