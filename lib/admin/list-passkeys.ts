import type { TDb } from '../store/db';

export type ListPasskeysOptions = { db: TDb; adminId: string };

// One admin's passkeys: their names and dates, never a key.
export async function listPasskeys({ db, adminId }: ListPasskeysOptions) {
  const rows = await db
    .selectFrom('admin_passkeys')
    .select(['id', 'label', 'created_at', 'last_used_at'])
    .where('admin_id', '=', adminId)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    label: r.label,
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  }));
}
