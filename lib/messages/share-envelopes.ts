import { toBase64url } from '../envelope/envelope-records';
import type { TDb } from '../store/db';
import { hasEnvelopeRecords, readEnvelopeRecords } from '../store/envelope-records';
import { readDeliveryEnvelope } from '../store/pending-envelopes';
import type { TOutboxTable } from '../store/schema';
import type { TEnvelopeText } from '../mail/templates/message-html';

export type TEnvelopeShare = { load(messageId: string): Promise<TEnvelopeText | null>; release(messageId: string): void };

// The envelope a message's wrappers carry as message.html. A version 2 envelope the server keeps
// is not loaded at all: each reading of the wrapper (DKIM, then sending) streams its records from
// the database a row at a time as base64url text, so ten recipients of a 25 MB message hold a
// row, not a copy. Otherwise (version 1, or held for attachment-only delivery) the token as bytes.
export async function loadDeliveryEnvelope(db: TDb, messageId: string): Promise<TEnvelopeText | null> {
  if (await hasEnvelopeRecords(db, messageId)) {
    const row = await db.selectFrom('messages').select('envelope').where('id', '=', messageId).executeTakeFirst();
    const head = row?.envelope;
    if (!head) return null;
    return {
      head,
      async *open() {
        yield Buffer.from(head, 'latin1');
        yield* toBase64url(readEnvelopeRecords(db, messageId));
      },
    };
  }
  return readDeliveryEnvelope(db, messageId);
}

export type ShareEnvelopesOptions = { db: TDb; rows: Pick<TOutboxTable, 'message_id' | 'recipient_id'>[] };

// One batch's wrappers of a message share its envelope: read from the database once, held while
// any of them is still to be sent, let go after the last. Ten recipients of a 25 MB message then
// cost one 33 MB string, not ten read one after the other (each read also passes through the
// database driver's own copy), which V8 would otherwise keep until its next full collection.
export function shareEnvelopes({ db, rows }: ShareEnvelopesOptions): TEnvelopeShare {
  const waiting = new Map<string, number>();
  for (const r of rows) if (r.recipient_id && r.message_id) waiting.set(r.message_id, (waiting.get(r.message_id) ?? 0) + 1);
  const loaded = new Map<string, Promise<TEnvelopeText | null>>();
  return {
    load(messageId) {
      let envelope = loaded.get(messageId);
      if (!envelope) {
        // As bytes: message.html is streamed from views of them, no slice copied (lib/mail/templates/message-html.tsx).
        envelope = loadDeliveryEnvelope(db, messageId);
        // A failed read is not kept: the next wrapper tries again.
        envelope.catch(() => loaded.delete(messageId));
        if (waiting.has(messageId)) loaded.set(messageId, envelope);
      }
      return envelope;
    },
    release(messageId) {
      const left = (waiting.get(messageId) ?? 0) - 1;
      if (left > 0) return void waiting.set(messageId, left);
      waiting.delete(messageId);
      loaded.delete(messageId);
    },
  };
}
