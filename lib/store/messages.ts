import { sql, type Kysely, type Transaction } from 'kysely';
import { deleteEnvelopeParts } from './envelope-parts';
import { deleteHeldEnvelope } from './held-envelopes';
import { deleteReaderViews } from './reader-views';
import type { TDatabase, TMessageTable, TRecipientTable } from './schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

export const getMessage = (db: TDbLike, id: string) => db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();

// The template a message was sent with; none (the tenant's default) for no message, such as an
// admin's federated sign-in.
export const messageTemplate = async (db: TDbLike, id: string | null) => (id ? (await getMessage(db, id))?.template : undefined);

// A message without its envelope (up to 33 MB of text at the default limit), and whether it
// keeps one: for the checks that need every other column (opening, the outbox's wrappers, which
// read the envelope once for all of them: lib/messages/share-envelopes.ts).
export type TMessageHead = Omit<TMessageTable, 'envelope'> & { is_kept: boolean };

export const getMessageHead = async (db: TDbLike, id: string): Promise<TMessageHead | undefined> => {
  const row = await db
    .selectFrom('messages')
    .select([
      'id',
      'tenant_id',
      'sender',
      'key_version',
      'wrapped_cek',
      'size_bytes',
      'template',
      'idempotency_key',
      'request_hash',
      'created_at',
      'expires_at',
      'revoked_at',
      'shredded_at',
      'in_reply_to',
      'thread_id',
      'bounce_notified_at',
      'restrictions',
      'subject_sealed',
    ])
    .select((eb) => eb('envelope', 'is not', null).as('is_kept'))
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { ...row, is_kept: Boolean(row.is_kept) } : undefined;
};

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
  await deleteEnvelopeParts(db, id);
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
