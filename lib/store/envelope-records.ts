import type { Kysely, Transaction } from 'kysely';
import type { TDatabase } from './schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

// The one owner of envelope_records: a kept message's version 2 envelope, its sealed records
// (lib/envelope/envelope-records.ts) in rows of up to ROW_BYTES, so neither writing nor reading
// a 150 MB message ever holds more than a row of it.
const ROW_BYTES = 1024 * 1024;

export type InsertEnvelopeRecordsOptions = { db: TDbLike; messageId: string; records: Iterable<Buffer> | AsyncIterable<Buffer> };

// Writes the records as they are sealed, a row at a time.
export async function insertEnvelopeRecords({ db, messageId, records }: InsertEnvelopeRecordsOptions): Promise<void> {
  let parts: Buffer[] = [];
  let size = 0;
  let seq = 0;
  const flush = async () => {
    await db
      .insertInto('envelope_records')
      .values({ message_id: messageId, seq: seq++, data: parts.length === 1 ? parts[0]! : Buffer.concat(parts, size) })
      .execute();
    parts = [];
    size = 0;
  };
  for await (const record of records) {
    parts.push(record);
    size += record.length;
    if (size >= ROW_BYTES) await flush();
  }
  if (parts.length) await flush();
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
    yield Buffer.from(row.data);
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
