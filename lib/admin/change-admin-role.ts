import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import { assertNotLastOwner, lockAdminByEmail } from './assert-not-last-owner';
import type { TAdminRole } from '../store/schema';
import { ZAdminRole } from './roles';

export type ChangeAdminRoleOptions = { db: TDb; tenantId: string; email: string; role: string; actor: string; now?: number };

// A new role for an admin; the last owner stays an owner (as they cannot be removed).
export async function changeAdminRole({ db, tenantId, email, role, actor, now = Date.now() }: ChangeAdminRoleOptions) {
  const parsed = ZAdminRole.safeParse(role);
  if (!parsed.success) throw new AppError('BAD_REQUEST', 'The role must be owner, admin or auditor.');
  const next: TAdminRole = parsed.data;
  const address = email.trim().toLowerCase();
  return runTransaction({
    db,
    work: async (trx) => {
      const admin = await lockAdminByEmail({ db, trx, tenantId, address });
      if (admin.role === next) return { email: address, role: next };
      await assertNotLastOwner({ db, trx, tenantId, admin, message: 'The last owner must stay an owner.' });
      await trx.updateTable('admins').set({ role: next }).where('id', '=', admin.id).execute();
      await recordAudit(trx, {
        tenantId,
        type: 'admin_role_changed',
        actor,
        data: { email: address, before: JSON.stringify({ role: admin.role }), after: JSON.stringify({ role: next }) },
        at: now,
      });
      return { email: address, role: next };
    },
  });
}
