import { sql, type Transaction } from 'kysely';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import type { TAdminTable, TDatabase } from '../store/schema';

export type AssertNotLastOwnerOptions = { db: TDb; trx: Transaction<TDatabase>; tenantId: string; admin: TAdminTable; message: string };

// Inside the transaction that would take an owner away: the tenant's row is locked first on
// PostgreSQL (two owners removing each other at once must not leave none: one waits for the
// other; SQLite has one writer anyway), then the owners counted.
export async function lockTenantAdmins({ db, trx, tenantId }: Omit<AssertNotLastOwnerOptions, 'admin' | 'message'>) {
  if (db.dialectName === 'postgres') await sql`select id from tenants where id = ${tenantId} for update`.execute(trx);
}

// The admin a role change or removal is about, read after lockTenantAdmins in the same
// transaction; NOT_FOUND when the tenant has no admin with that address.
export async function lockAdminByEmail({
  db,
  trx,
  tenantId,
  address,
}: Omit<AssertNotLastOwnerOptions, 'admin' | 'message'> & { address: string }) {
  await lockTenantAdmins({ db, trx, tenantId });
  const admin = await trx
    .selectFrom('admins')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('email', '=', address)
    .executeTakeFirst();
  if (!admin) throw new AppError('NOT_FOUND', `No admin ${address} in this tenant`);
  return admin;
}

export async function assertNotLastOwner({ trx, tenantId, admin, message }: AssertNotLastOwnerOptions) {
  if (admin.role !== 'owner') return;
  const owners = await trx
    .selectFrom('admins')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  if (Number(owners.n) <= 1) throw new AppError('CONFLICT', message);
}
