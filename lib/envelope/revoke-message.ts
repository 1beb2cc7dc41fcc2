import { AppError } from '../errors';
import { recordAudit } from '../audit/record-audit';
import { checkpointAfterShred, getMessage, listExpiredUnshredded, shredMessage } from '../store/messages';
import type { TDb } from '../store/db';

export type RevokeMessageOptions = { db: TDb; messageId: string; actor?: string; now?: number };

// Revocation destroys the content key: every copy of the envelope, in any mailbox, is dead.
export async function revokeMessage({ db, messageId, actor = 'cli', now = Date.now() }: RevokeMessageOptions) {
  const message = await getMessage(db, messageId);
  if (!message) throw new AppError('NOT_FOUND', `No message with id ${messageId}`);
  if (!message.revoked_at) {
    await db.transaction().execute(async (trx) => {
      await shredMessage(trx, messageId, { now, revoked_at: now });
      await recordAudit(trx, { tenantId: message.tenant_id, messageId, type: 'revoked', actor, at: now });
    });
    await checkpointAfterShred(db);
  }
  return { messageId, revokedAt: message.revoked_at ?? now };
}

export type PurgeExpiredOptions = { db: TDb; now?: number };

// Expiry is cryptographic too: the worker runs this periodically, `sealpost purge` on demand.
export async function purgeExpired({ db, now = Date.now() }: PurgeExpiredOptions): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await listExpiredUnshredded(db, now);
    if (!batch.length) break;
    await db.transaction().execute(async (trx) => {
      for (const m of batch) {
        await shredMessage(trx, m.id, { now });
        await recordAudit(trx, { tenantId: m.tenant_id, messageId: m.id, type: 'expired', actor: 'system', at: now });
      }
    });
    total += batch.length;
  }
  if (total) await checkpointAfterShred(db);
  return total;
}
