import { readDeliveryEnvelope } from '../store/pending-envelopes';
import type { TEnvelopeText } from '../mail/templates/message-html';
import type { TDb } from '../store/db';
import type { TOutboxTable } from '../store/schema';

export type TEnvelopeShare = { load(messageId: string): Promise<TEnvelopeText | null>; release(messageId: string): void };

export type ShareEnvelopesOptions = { db: TDb; rows: Pick<TOutboxTable, 'message_id' | 'recipient_id'>[] };

// One batch's wrappers of a message share its envelope: looked up once, held while any of them
// is still to be sent, let go after the last. A kept envelope is only its frame here (its text
// is streamed from the store at each reading of a wrapper); one held for attachment-only
// delivery is its bytes, read once for the batch rather than once per wrapper.
export function shareEnvelopes({ db, rows }: ShareEnvelopesOptions): TEnvelopeShare {
  const waiting = new Map<string, number>();
  for (const r of rows) if (r.recipient_id && r.message_id) waiting.set(r.message_id, (waiting.get(r.message_id) ?? 0) + 1);
  const loaded = new Map<string, Promise<TEnvelopeText | null>>();
  return {
    load(messageId) {
      let envelope = loaded.get(messageId);
      if (!envelope) {
        // As bytes: message.html is streamed from views of them, no slice copied (lib/mail/templates/message-html.tsx).
        envelope = readDeliveryEnvelope(db, messageId);
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
