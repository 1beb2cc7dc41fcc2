import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import type { TAdminTable } from '../store/schema';
import { adminActor } from './roles';

export type RemovePasskeyOptions = { db: TDb; admin: TAdminTable; passkeyId: string; now?: number };

// An admin removes one of their own passkeys, never the last: they would be locked out.
export async function removePasskey({ db, admin, passkeyId, now = Date.now() }: RemovePasskeyOptions) {
  return runTransaction({
    db,
    work: async (trx) => {
      const own = await trx.selectFrom('admin_passkeys').select(['id', 'label']).where('admin_id', '=', admin.id).execute();
      const passkey = own.find((p) => p.id === passkeyId);
      if (!passkey) throw new AppError('NOT_FOUND', 'No such passkey');
      if (own.length <= 1) throw new AppError('CONFLICT', 'Your last passkey cannot be removed.');
      await trx.deleteFrom('admin_passkeys').where('id', '=', passkeyId).execute();
      await recordAudit(trx, {
        tenantId: admin.tenant_id,
        type: 'admin_passkey_removed',
        actor: adminActor(admin),
        data: { email: admin.email, before: JSON.stringify({ label: passkey.label }), after: null },
        at: now,
      });
      return { removed: true };
    },
  });
}
