import type { Kysely, Transaction } from 'kysely';
import type { TDatabase } from './schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

// The one owner of envelope_records: a kept message's version 2 envelope, its sealed records
// (lib/envelope/envelope-records.ts) in rows of RECORDS_PER_ROW (1 MiB), so neither writing nor
// reading a 150 MB message ever holds more than a row of it.
export const RECORDS_PER_ROW = 16;

export type InsertEnvelopeRecordsOptions = { db: TDbLike; messageId: string; rows: Iterable<Buffer> | AsyncIterable<Buffer> };

// Writes the rows as they are sealed, one at a time: each is written (bound and copied by the
// driver) before the next is asked for, so a row may be a view of a buffer the sealer reuses.
export async function insertEnvelopeRecords({ db, messageId, rows }: InsertEnvelopeRecordsOptions): Promise<void> {
  let seq = 0;
  for await (const data of rows) await db.insertInto('envelope_records').values({ message_id: messageId, seq: seq++, data }).execute();
}

// The sealed bytes of a message's envelope, a row at a time, in order.
export async function* readEnvelopeRecords(db: TDbLike, messageId: string): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const row = await db
      .selectFrom('envelope_records')
      .select('data')
      .where('message_id', '=', messageId)
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (!row) return;
    yield row.data;
  }
}

export async function deleteEnvelopeRecords(db: TDbLike, messageId: string): Promise<void> {
  await db.deleteFrom('envelope_records').where('message_id', '=', messageId).execute();
}

export async function hasEnvelopeRecords(db: TDbLike, messageId: string): Promise<boolean> {
  const row = await db
    .selectFrom('envelope_records')
    .select('seq')
    .where('message_id', '=', messageId)
    .where('seq', '=', 0)
    .executeTakeFirst();
  return Boolean(row);
}
