import crypto from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { AppError } from '../errors';
import type { TDatabase } from '../store/schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

// Every limit in one place: a sliding window of events per key, counted in the database so the
// limit holds across instances.
export const RATE_LIMITS = {
  passcodeRequestPerIp: { windowMs: 60 * 60_000, max: 30 },
  passcodeVerifyPerIp: { windowMs: 60 * 60_000, max: 100 },
  // Wrong passcodes per recipient of a message: new codes do not reset it.
  passcodeFailuresPerRecipient: { windowMs: 60 * 60_000, max: 20 },
  // Copies a reader asks of their own replies: each is a mail the portal sends in their name.
  copiesPerAddress: { windowMs: 60 * 60_000, max: 10 },
  // Replies (and Reply all) a reader sends: each is mail to several addresses in the tenant's name.
  repliesPerAddress: { windowMs: 60 * 60_000, max: 30 },
  // Forwards a reader sends: each reaches addresses of their choosing, in the tenant's name.
  forwardsPerAddress: { windowMs: 60 * 60_000, max: 20 },
  // Federated sign-ins started: each is a row and a round trip to a provider.
  federatedStartPerIp: { windowMs: 60 * 60_000, max: 60 },
} as const;
export type TRateLimitName = keyof typeof RATE_LIMITS;

// Keys hold addresses and IPs: only a hash of them is stored.
const eventKey = (name: TRateLimitName, key: string) => `${name}:${crypto.createHash('sha256').update(key).digest('base64url')}`;

export type RateLimitOptions = { name: TRateLimitName; key: string; now: number };

export async function countRateEvents(db: TDbLike, { name, key, now }: RateLimitOptions): Promise<number> {
  const row = await db
    .selectFrom('rate_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key', '=', eventKey(name, key))
    .where('at', '>', now - RATE_LIMITS[name].windowMs)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function recordRateEvent(db: TDbLike, { name, key, now }: RateLimitOptions): Promise<void> {
  await db.insertInto('rate_events').values({ key: eventKey(name, key), at: now }).execute();
}

// Whether the next event would be refused, without counting one: a form can say so before it is filled in.
export async function isRateLimited(db: TDbLike, options: RateLimitOptions): Promise<boolean> {
  return (await countRateEvents(db, options)) >= RATE_LIMITS[options.name].max;
}

// Throws RATE_LIMITED (with the wait) when the window is full; otherwise counts this event.
export async function consumeRateLimit(db: TDbLike, options: RateLimitOptions): Promise<void> {
  const { name, now } = options;
  if ((await countRateEvents(db, options)) >= RATE_LIMITS[name].max) {
    throw new AppError('RATE_LIMITED', 'Too many requests. Please wait and try again.', { retryAfterSeconds: Math.ceil(RATE_LIMITS[name].windowMs / 1000) });
  }
  await recordRateEvent(db, { ...options, now });
}

export async function purgeRateEvents(db: TDbLike, now: number): Promise<void> {
  const longest = Math.max(...Object.values(RATE_LIMITS).map((p) => p.windowMs));
  await db.deleteFrom('rate_events').where('at', '<=', now - longest).execute();
}
