import type { Kysely, Transaction } from 'kysely';
import type { TDatabase } from './schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

// The one owner of held_envelopes: an envelope posted from message.html for a message the server
// keeps no copy of (the tenant delivers by attachment only), held only while the recipient signs
// in and reads. Long enough to ask for a passcode, read it and sign in; a kept session re-posts
// message.html.
export const HOLD_MS = 60 * 60_000;

export type HoldEnvelopeOptions = { db: TDbLike; messageId: string; envelope: string; now: number };

// Holds (or holds again, for another hour) the envelope posted for a message.
export async function holdEnvelope({ db, messageId, envelope, now }: HoldEnvelopeOptions): Promise<void> {
  const expiresAt = now + HOLD_MS;
  await db
    .insertInto('held_envelopes')
    .values({ message_id: messageId, envelope, expires_at: expiresAt })
    .onConflict((oc) => oc.column('message_id').doUpdateSet({ envelope, expires_at: expiresAt }))
    .execute();
}

export type GetHeldEnvelopeOptions = { db: TDbLike; messageId: string; now: number };

// The envelope held for a message, and until when, while its hold lasts.
export async function getHeldEnvelope({
  db,
  messageId,
  now,
}: GetHeldEnvelopeOptions): Promise<{ envelope: string; expiresAt: number } | null> {
  const held = await db
    .selectFrom('held_envelopes')
    .select(['envelope', 'expires_at'])
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  return held && Number(held.expires_at) > now ? { envelope: held.envelope, expiresAt: Number(held.expires_at) } : null;
}

// A revoked or shredded message keeps nothing held.
export async function deleteHeldEnvelope(db: TDbLike, messageId: string): Promise<void> {
  await db.deleteFrom('held_envelopes').where('message_id', '=', messageId).execute();
}

// Housekeeping: every hold that has run out. Returns how many were deleted.
export async function purgeHeldEnvelopes(db: TDbLike, now: number): Promise<number> {
  const result = await db.deleteFrom('held_envelopes').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
