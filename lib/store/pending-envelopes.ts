import { sql, type Transaction } from 'kysely';
import { envelopeTextPieces, readEnvelopeFrame } from '../envelope/envelope-stream';
import type { TEnvelopeText } from '../mail/templates/message-html';
import type { TDb } from './db';
import { storedEnvelopeSource } from './envelope-parts';
import { runTransaction } from './run-transaction';
import type { TDatabase } from './schema';

// The envelope of an attachment-only message lives here only while a wrapper of it waits in the
// outbox: such a tenant keeps no copy on the server once its mail is out.

// The one envelope a message's wrappers carry (kept on the server, or held for its delivery).
// A kept one is not loaded: each reading of a wrapper (DKIM, then sending) streams its text from
// the store a row at a time, so ten recipients of a 25 MB message hold a row, not a copy. One
// held (or kept whole, from before parts) as latin1 bytes: SQLite hands the TEXT over cast to a
// BLOB, so no 33 MB string is made on the way.
export async function readDeliveryEnvelope(db: TDb, messageId: string): Promise<TEnvelopeText | null> {
  const column = (table: 'messages' | 'pending_envelopes') =>
    db.dialectName === 'sqlite'
      ? sql<Buffer | null>`CAST(${sql.ref(`${table}.envelope`)} AS BLOB)`.as('envelope')
      : sql<string | null>`${sql.ref(`${table}.envelope`)}`.as('envelope');
  const kept =
    (await db.selectFrom('messages').select(column('messages')).where('id', '=', messageId).executeTakeFirst())?.envelope ?? null;
  const short = kept !== null && kept.length <= MAX_FRAME_CHARS ? (typeof kept === 'string' ? kept : kept.toString('latin1')) : null;
  if (short !== null && readEnvelopeFrame(short)) {
    const source = storedEnvelopeSource(db, messageId, short);
    return { head: short, open: () => envelopeTextPieces(source) };
  }
  const found =
    kept ??
    (await db.selectFrom('pending_envelopes').select(column('pending_envelopes')).where('message_id', '=', messageId).executeTakeFirst())
      ?.envelope ??
    null;
  return typeof found === 'string' ? Buffer.from(found, 'latin1') : found;
}

// A frame is its header (at most 1 KiB), the IV and the tag.
const MAX_FRAME_CHARS = 2048;

export const insertPendingEnvelope = (db: Transaction<TDatabase> | TDb, messageId: string, envelope: string) =>
  db.insertInto('pending_envelopes').values({ message_id: messageId, envelope }).execute();

export async function getPendingEnvelope(db: TDb, messageId: string): Promise<string | null> {
  const row = await db.selectFrom('pending_envelopes').select('envelope').where('message_id', '=', messageId).executeTakeFirst();
  return row?.envelope ?? null;
}

export type SettleWrapperOptions<T> = { db: TDb; messageId: string; settle: (trx: Transaction<TDatabase>) => Promise<T> };

// Records a wrapper's outcome and, when it was the message's last queued wrapper, deletes the
// pending envelope in the same transaction. The envelope's row is locked first, so two workers
// settling the last two wrappers at once cannot both see the other's still queued and keep it.
export async function settleWrapper<T>({ db, messageId, settle }: SettleWrapperOptions<T>): Promise<T> {
  return runTransaction({
    db,
    work: async (trx) => {
      let lock = trx.selectFrom('pending_envelopes').select('message_id').where('message_id', '=', messageId);
      if (db.dialectName === 'postgres') lock = lock.forUpdate();
      const isPending = Boolean(await lock.executeTakeFirst());
      const result = await settle(trx);
      if (isPending) {
        await trx
          .deleteFrom('pending_envelopes')
          .where('message_id', '=', messageId)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('outbox')
                  .select('outbox.id')
                  .where('outbox.message_id', '=', messageId)
                  .where('outbox.status', '=', 'queued')
                  .where('outbox.recipient_id', 'is not', null),
              ),
            ),
          )
          .execute();
      }
      return result;
    },
  });
}

// Safety net for the worker's periodic pass: an envelope no queued wrapper needs any more.
export async function sweepPendingEnvelopes(db: TDb): Promise<number> {
  const result = await db
    .deleteFrom('pending_envelopes')
    .where(({ not, exists, selectFrom, ref }) =>
      not(
        exists(
          selectFrom('outbox')
            .select('outbox.id')
            .whereRef('outbox.message_id', '=', ref('pending_envelopes.message_id'))
            .where('outbox.status', '=', 'queued')
            .where('outbox.recipient_id', 'is not', null),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
