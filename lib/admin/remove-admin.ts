import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import { assertNotLastOwner, lockTenantAdmins } from './assert-not-last-owner';

export type RemoveAdminOptions = { db: TDb; tenantId: string; email: string; actor: string; now?: number };

// Removes an admin with their passkeys and sessions (signed out at once). The last owner stays:
// a tenant nobody can manage any more is only fixable from a shell.
export async function removeAdmin({ db, tenantId, email, actor, now = Date.now() }: RemoveAdminOptions) {
  const address = email.trim().toLowerCase();
  return runTransaction({
    db,
    work: async (trx) => {
      await lockTenantAdmins({ db, trx, tenantId });
      const admin = await trx
        .selectFrom('admins')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('email', '=', address)
        .executeTakeFirst();
      if (!admin) throw new AppError('NOT_FOUND', `No admin ${address} in this tenant`);
      await assertNotLastOwner({ db, trx, tenantId, admin, message: 'The last owner cannot be removed.' });
      await trx.deleteFrom('admin_sessions').where('admin_id', '=', admin.id).execute();
      await trx.deleteFrom('admin_passkeys').where('admin_id', '=', admin.id).execute();
      await trx.deleteFrom('admins').where('id', '=', admin.id).execute();
      await recordAudit(trx, {
        tenantId,
        type: 'admin_removed',
        actor,
        data: { email: address, before: JSON.stringify({ role: admin.role }), after: null },
        at: now,
      });
      return { email: address, removed: true };
    },
  });
}
