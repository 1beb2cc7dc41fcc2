import type { Kysely, Transaction } from 'kysely';
import { compactSource, readEnvelopeFrame, type TEnvelopeSource } from '../envelope/envelope-stream';
import type { TDatabase } from './schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

// The one owner of envelope_parts: a kept message's envelope ciphertext in rows of PART_BYTES
// (lib/envelope/envelope-stream.ts), its frame in messages.envelope. Neither storing nor reading
// a 150 MB message holds more than a row of it; a page that reads the message's row reads 200
// bytes of frame, not the envelope.

export type InsertEnvelopePartsOptions = { db: TDbLike; messageId: string; parts: Iterable<Buffer> };

// Each part is written (bound, and copied by the driver) before the next is asked for, so a part
// may be a view of a buffer the sealer reuses.
export async function insertEnvelopeParts({ db, messageId, parts }: InsertEnvelopePartsOptions): Promise<void> {
  let seq = 0;
  for (const data of parts) await db.insertInto('envelope_parts').values({ message_id: messageId, seq: seq++, data }).execute();
}

// A message's ciphertext, a row at a time, in order.
async function* readEnvelopeParts(db: TDbLike, messageId: string): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const row = await db
      .selectFrom('envelope_parts')
      .select('data')
      .where('message_id', '=', messageId)
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (!row) return;
    yield row.data;
  }
}

export async function deleteEnvelopeParts(db: TDbLike, messageId: string): Promise<void> {
  await db.deleteFrom('envelope_parts').where('message_id', '=', messageId).execute();
}

// A stored envelope (messages.envelope) as a source: a frame with its parts, or a whole token
// (stored before parts existed). Hostile all the same: the frame is checked as strictly as a token.
export function storedEnvelopeSource(db: TDbLike, messageId: string, stored: string): TEnvelopeSource {
  const frame = readEnvelopeFrame(stored);
  return frame ? { frame, ciphertext: () => readEnvelopeParts(db, messageId) } : compactSource(stored);
}
