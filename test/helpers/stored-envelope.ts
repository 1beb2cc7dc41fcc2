import { envelopeString } from '@/lib/envelope/envelope-stream';
import type { TDb } from '@/lib/store/db';
import { storedEnvelopeSource } from '@/lib/store/envelope-parts';

// The whole compact token of a kept message, as message.html carries it: its frame
// (messages.envelope) joined with its ciphertext rows (envelope_parts).
export async function readStoredEnvelope(db: TDb, messageId: string): Promise<string> {
  const row = await db.selectFrom('messages').select('envelope').where('id', '=', messageId).executeTakeFirstOrThrow();
  if (!row.envelope) throw new Error(`message ${messageId} keeps no envelope`);
  return envelopeString(storedEnvelopeSource(db, messageId, row.envelope));
}
