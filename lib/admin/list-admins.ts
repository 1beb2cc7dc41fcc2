import type { TDb } from '../store/db';

export type ListAdminsOptions = { db: TDb; tenantId: string };

// The tenant's admins with how many passkeys each has, by address.
export async function listAdmins({ db, tenantId }: ListAdminsOptions) {
  const rows = await db
    .selectFrom('admins')
    .leftJoin('admin_passkeys', 'admin_passkeys.admin_id', 'admins.id')
    .select(['admins.id', 'admins.email', 'admins.role', 'admins.created_at'])
    .select((eb) => eb.fn.count<number>('admin_passkeys.id').as('passkeys'))
    .where('admins.tenant_id', '=', tenantId)
    .groupBy(['admins.id', 'admins.email', 'admins.role', 'admins.created_at'])
    .orderBy('admins.email')
    .execute();
  return rows.map((r) => ({ id: r.id, email: r.email, role: r.role, passkeys: Number(r.passkeys), createdAt: Number(r.created_at) }));
}
