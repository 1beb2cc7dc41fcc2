import { sql, type Kysely, type Transaction } from 'kysely';
import { deleteHeldEnvelope } from './held-envelopes';
import { deleteReaderViews } from './reader-views';
import type { TDatabase, TMessageTable, TRecipientTable } from './schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

export const getMessage = (db: TDbLike, id: string) => db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();

export const getMessageByIdempotencyKey = (db: TDbLike, tenantId: string, key: string) =>
  db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('idempotency_key', '=', key).executeTakeFirst();

export const listRecipients = (db: TDbLike, messageId: string): Promise<TRecipientTable[]> =>
  db.selectFrom('recipients').selectAll().where('message_id', '=', messageId).orderBy('address').execute();

export async function insertMessage(db: TDbLike, message: TMessageTable, recipients: TRecipientTable[]): Promise<void> {
  await db.insertInto('messages').values(message).execute();
  if (recipients.length) await db.insertInto('recipients').values(recipients).execute();
}

// Crypto-shredding: with the wrapped content key gone, no copy of the envelope opens again; the
// sealed subject goes with it (it is content, and the message is no longer readable).
export async function shredMessage(db: TDbLike, id: string, fields: { revoked_at?: number; now: number }): Promise<boolean> {
  const result = await db
    .updateTable('messages')
    .set({
      wrapped_cek: null,
      envelope: null,
      subject_sealed: null,
      shredded_at: fields.now,
      ...(fields.revoked_at ? { revoked_at: fields.revoked_at } : {}),
    })
    .where('id', '=', id)
    .executeTakeFirst();
  await deleteHeldEnvelope(db, id);
  await deleteReaderViews(db, id);
  await db.deleteFrom('pending_envelopes').where('message_id', '=', id).execute();
  // Wrappers not yet sent are never built now; one a worker holds right now it cancels itself.
  await db
    .updateTable('outbox')
    .set({ status: 'cancelled', payload: null, last_error: 'message revoked or expired before delivery' })
    .where('message_id', '=', id)
    .where('status', '=', 'queued')
    .where('recipient_id', 'is not', null)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', fields.now)]))
    .execute();
  return Number(result.numUpdatedRows) > 0;
}

export async function listExpiredUnshredded(db: TDbLike, now: number, limit = 500) {
  return db
    .selectFrom('messages')
    .select(['id', 'tenant_id'])
    .where('expires_at', '<=', now)
    .where('shredded_at', 'is', null)
    .limit(limit)
    .execute();
}

// SQLite keeps old page images in the WAL until a checkpoint; after shredding, copy them back
// (secure_delete zeroes the freed cells) and truncate the WAL so no old key bytes remain on disk.
export async function checkpointAfterShred(db: Kysely<TDatabase> & { dialectName: string }): Promise<void> {
  if (db.dialectName === 'sqlite') await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
}
