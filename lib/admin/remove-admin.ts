import { recordAudit } from '../audit/record-audit';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import { assertNotLastOwner, lockAdminByEmail } from './assert-not-last-owner';

export type RemoveAdminOptions = { db: TDb; tenantId: string; email: string; actor: string; now?: number };

// Removes an admin with their passkeys and sessions (signed out at once). The last owner stays:
// a tenant nobody can manage any more is only fixable from a shell.
export async function removeAdmin({ db, tenantId, email, actor, now = Date.now() }: RemoveAdminOptions) {
  const address = email.trim().toLowerCase();
  return runTransaction({
    db,
    work: async (trx) => {
      const admin = await lockAdminByEmail({ db, trx, tenantId, address });
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
