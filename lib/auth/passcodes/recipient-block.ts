import type { Kysely, Transaction } from 'kysely';
import { recordAudit } from '../../audit/record-audit';
import { AppError } from '../../errors';
import { normaliseAddress } from '../../mail/address';
import type { TDb } from '../../store/db';
import type { TDatabase } from '../../store/schema';
import { PASSCODE_MAX_CONSECUTIVE_FAILURES, passcodeRecipientKey } from './passcode-hash';
import { clearRateEvents } from '../../rate-limit/rate-limits';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

// The hard stop on guessing: a recipient whose consecutive wrong passcodes reached the limit gets
// no new code and no comparison until the sender lets them in again.
export async function assertRecipientNotBlocked(db: TDbLike, recipientId: string): Promise<void> {
  const row = await db.selectFrom('recipients').select('passcode_blocked_at').where('id', '=', recipientId).executeTakeFirst();
  if (row?.passcode_blocked_at != null) {
    throw new AppError(
      'SIGNIN_BLOCKED',
      'Too many wrong passcodes were entered for this message. Ask the sender to let you sign in again.',
    );
  }
}

// One more wrong passcode in a row, counted in one statement; the one that reaches the limit
// blocks the recipient. Returns whether they are now blocked.
export async function recordConsecutiveFailure(db: TDbLike, { recipientId, now }: { recipientId: string; now: number }): Promise<boolean> {
  const row = await db
    .updateTable('recipients')
    .set((eb) => ({
      passcode_failures: eb('passcode_failures', '+', 1),
      passcode_blocked_at: eb
        .case()
        .when('passcode_failures', '>=', PASSCODE_MAX_CONSECUTIVE_FAILURES - 1)
        .then(now)
        .else(eb.ref('passcode_blocked_at'))
        .end(),
    }))
    .where('id', '=', recipientId)
    .returning(['passcode_blocked_at'])
    .executeTakeFirst();
  return row?.passcode_blocked_at != null;
}

// Only a successful sign-in ends a run of wrong passcodes.
export async function resetConsecutiveFailures(db: TDbLike, recipientId: string): Promise<void> {
  await db
    .updateTable('recipients')
    .set({ passcode_failures: 0 })
    .where('id', '=', recipientId)
    .where('passcode_failures', '>', 0)
    .execute();
}

export type UnblockRecipientOptions = { db: TDb; messageId: string; address: string; actor: string; now?: number };

// The sender (or an admin) lets a blocked recipient ask for passcodes again: the run of failures
// and the hour's lock-out start from nothing.
export async function unblockRecipient({
  db,
  messageId,
  address,
  actor,
  now = Date.now(),
}: UnblockRecipientOptions): Promise<{ wasBlocked: boolean }> {
  const normalised = normaliseAddress(address);
  const message = /^[0-9a-f-]{36}$/.test(messageId)
    ? await db.selectFrom('messages').select(['id', 'tenant_id']).where('id', '=', messageId).executeTakeFirst()
    : undefined;
  const recipient =
    message && normalised
      ? await db
          .selectFrom('recipients')
          .select(['id', 'passcode_blocked_at'])
          .where('message_id', '=', message.id)
          .where('address', '=', normalised)
          .executeTakeFirst()
      : undefined;
  if (!message || !recipient || !normalised) throw new AppError('NOT_FOUND', 'No such recipient of this message');
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('recipients').set({ passcode_failures: 0, passcode_blocked_at: null }).where('id', '=', recipient.id).execute();
    await clearRateEvents(trx, { name: 'passcodeFailuresPerRecipient', key: passcodeRecipientKey(message.id, normalised) });
    await recordAudit(trx, {
      tenantId: message.tenant_id,
      messageId: message.id,
      type: 'signin_unblocked',
      actor,
      data: { recipient: normalised },
      at: now,
    });
  });
  return { wasBlocked: recipient.passcode_blocked_at != null };
}
