import crypto from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import type { TDatabase } from '../store/schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

type TRateLimitPolicy = {
  windowMs: number;
  max: number;
  code: 'RATE_LIMITED' | 'LOCKED_OUT';
  message: string;
  // Counted per bucket of this many ms (one row per key and bucket) instead of one row per event,
  // for a limit whose max is too large to count event by event. See assertBelowCounterLimit.
  bucketMs?: number;
};

const TRY_LATER = 'Too many requests. Please wait and try again.';

// Every limit in one place: a sliding window of events per key (or, with bucketMs, of per-bucket
// counters), counted in the database so the limit holds across instances. Per-IP keys are scoped to a tenant by their callers.
export const RATE_LIMITS = {
  passcodeRequestPerIp: { windowMs: 60 * 60_000, max: 30, code: 'RATE_LIMITED', message: TRY_LATER },
  passcodeVerifyPerIp: { windowMs: 60 * 60_000, max: 100, code: 'RATE_LIMITED', message: TRY_LATER },
  // Per recipient of a message: a new code at most every 30 s, and 5 in 15 minutes.
  passcodeResendInterval: {
    windowMs: 30_000,
    max: 1,
    code: 'RATE_LIMITED',
    message: 'A passcode was just sent. Wait a moment before asking for another.',
  },
  passcodeResendWindow: {
    windowMs: 15 * 60_000,
    max: 5,
    code: 'RATE_LIMITED',
    message: 'Too many passcodes were sent. Try again in 15 minutes.',
  },
  // Wrong passcodes per recipient of a message: new codes do not reset it.
  passcodeFailuresPerRecipient: {
    windowMs: 60 * 60_000,
    max: 20,
    code: 'LOCKED_OUT',
    message: 'Too many wrong passcodes. Try again in an hour.',
  },
  // Copies a reader asks of their own replies: each is a mail the portal sends in their name.
  copiesPerAddress: { windowMs: 60 * 60_000, max: 10, code: 'RATE_LIMITED', message: TRY_LATER },
  // Replies (and Reply all) a reader sends: each is mail to several addresses in the tenant's name.
  repliesPerAddress: { windowMs: 60 * 60_000, max: 30, code: 'RATE_LIMITED', message: TRY_LATER },
  // Forwards a reader sends: each reaches addresses of their choosing, in the tenant's name.
  forwardsPerAddress: { windowMs: 60 * 60_000, max: 20, code: 'RATE_LIMITED', message: TRY_LATER },
  // Bounce notices to one sender: a mailing to a stale list must not become a flood back.
  bounceNoticesPerSender: { windowMs: 60 * 60_000, max: 10, code: 'RATE_LIMITED', message: TRY_LATER },
  // Federated sign-ins started: each is a row and a round trip to a provider.
  federatedStartPerIp: { windowMs: 60 * 60_000, max: 60, code: 'RATE_LIMITED', message: TRY_LATER },
  // Admin passkey ceremonies started (sign-in or registration), per address and tenant: each is a
  // challenge row and, answered, a signature check; a passkey cannot be guessed, but nobody needs
  // more than this.
  adminSignInPerIp: { windowMs: 15 * 60_000, max: 30, code: 'RATE_LIMITED', message: TRY_LATER },
  // Failed SMTP AUTH at the relay per source address: password guessing.
  relayAuthFailuresPerIp: {
    windowMs: 15 * 60_000,
    max: 5,
    code: 'RATE_LIMITED',
    message: 'Too many failed authentications. Try again later.',
  },
  // Mail from outside accepted for a tenant's inbound route, per source address (not per tenant: one
  // sender's flood is the installation's problem, and must not use up a tenant's outbound limit).
  relayInboundPerIp: {
    windowMs: 60 * 60_000,
    max: 3_000,
    bucketMs: 60_000,
    code: 'RATE_LIMITED',
    message: 'Too much mail from your address this hour. Try again later.',
  },
  // Messages a tenant relays: one stolen credential must not become a spam cannon in its name.
  // Per minute bucket: checking it reads at most 61 rows, where events meant up to 50,000.
  relayMessagesPerTenant: {
    windowMs: 60 * 60_000,
    max: 50_000,
    bucketMs: 60_000,
    code: 'RATE_LIMITED',
    message: 'The organisation has relayed too many messages this hour. Try again later.',
  },
} as const satisfies Record<string, TRateLimitPolicy>;
export type TRateLimitName = keyof typeof RATE_LIMITS;

// The limits counted on their own rows rather than as events in a window, listed here beside
// the others so every limit is in one place.
export const COUNT_LIMITS = {
  // Comparisons against one passcode, right or wrong: then the code is dead.
  passcodeTriesPerCode: 5,
  // Guesses stop for good after this many wrong passcodes in a row for one recipient of one
  // message, whatever the hourly lock-outs allowed (NIST SP 800-63B-4 §3.2.2); only the sender
  // (or an admin) lets them try again.
  passcodeConsecutiveFailures: 100,
} as const;

export type TRateLimitUse = { name: TRateLimitName; key: string };

// Keys hold addresses and IPs: only a hash of them is stored.
// The stored key of one limit's events (the caller's key hashed: an address or IP never stored as is).
export const eventKey = ({ name, key }: TRateLimitUse) => `${name}:${crypto.createHash('sha256').update(key).digest('base64url')}`;

export type RateLimitOptions = TRateLimitUse & { now: number };

export async function countRateEvents(db: TDbLike, { name, key, now }: RateLimitOptions): Promise<number> {
  const policy: TRateLimitPolicy = RATE_LIMITS[name];
  if (policy.bucketMs) return (await readCounters(db, { name, key, now })).reduce((sum, c) => sum + c.count, 0);
  const row = await db
    .selectFrom('rate_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key', '=', eventKey({ name, key }))
    .where('at', '>', now - policy.windowMs)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function recordRateEvent(db: TDbLike, { name, key, now }: RateLimitOptions): Promise<void> {
  const { bucketMs }: TRateLimitPolicy = RATE_LIMITS[name];
  if (!bucketMs) {
    await db
      .insertInto('rate_events')
      .values({ key: eventKey({ name, key }), at: now })
      .execute();
    return;
  }
  await db
    .insertInto('rate_counters')
    .values({ key: eventKey({ name, key }), bucket: now - (now % bucketMs), count: 1 })
    .onConflict((oc) => oc.columns(['key', 'bucket']).doUpdateSet((eb) => ({ count: eb('rate_counters.count', '+', 1) })))
    .execute();
}

// A bucketed limit's counters, oldest first: every bucket with a moment inside the window.
async function readCounters(db: TDbLike, { name, key, now }: RateLimitOptions): Promise<Array<{ bucket: number; count: number }>> {
  const policy: TRateLimitPolicy = RATE_LIMITS[name];
  const rows = await db
    .selectFrom('rate_counters')
    .select(['bucket', 'count'])
    .where('key', '=', eventKey({ name, key }))
    .where('bucket', '>', now - policy.windowMs - policy.bucketMs!)
    .orderBy('bucket')
    .execute();
  return rows.map((r) => ({ bucket: Number(r.bucket), count: Number(r.count) }));
}

// A bucketed limit counts the whole of the oldest bucket, part of which may already be out of the
// window: it can refuse up to one bucket early, never let more than max events into any window.
// The wait: until enough of the oldest buckets have left the window for one more event.
async function assertBelowCounterLimit(db: TDbLike, options: RateLimitOptions): Promise<void> {
  const policy: TRateLimitPolicy = RATE_LIMITS[options.name];
  const counters = await readCounters(db, options);
  let total = counters.reduce((sum, c) => sum + c.count, 0);
  if (total < policy.max) return;
  let leavesAt = options.now;
  for (const c of counters) {
    if (total < policy.max) break;
    total -= c.count;
    leavesAt = c.bucket + policy.bucketMs! + policy.windowMs;
  }
  const retryAfterSeconds = Math.max(1, Math.ceil((leavesAt - options.now) / 1000));
  throw new AppError(policy.code, policy.message, { retryAfterSeconds });
}

// Throws the policy's error when its window is full, with the wait until enough events have
// left the window for one more: the max-th newest event's time plus the window.
async function assertBelowLimit(db: TDbLike, { name, key, now }: RateLimitOptions): Promise<void> {
  const policy: TRateLimitPolicy = RATE_LIMITS[name];
  if (policy.bucketMs) return assertBelowCounterLimit(db, { name, key, now });
  const blocking = await db
    .selectFrom('rate_events')
    .select('at')
    .where('key', '=', eventKey({ name, key }))
    .where('at', '>', now - policy.windowMs)
    .orderBy('at', 'desc')
    .offset(policy.max - 1)
    .limit(1)
    .executeTakeFirst();
  if (!blocking) return;
  const retryAfterSeconds = Math.max(1, Math.ceil((Number(blocking.at) + policy.windowMs - now) / 1000));
  throw new AppError(policy.code, policy.message, { retryAfterSeconds });
}

export type WithRateLimitsOptions = {
  // Limits that must have room, and count one event each when the work succeeds.
  consume?: TRateLimitUse[];
  // Limits that must have room but count nothing here (a lock-out, counted where failures happen).
  check?: TRateLimitUse[];
  now: number;
};

// Check-then-act made safe: the checks, the work and the counting run in one transaction that
// holds a lock per key, so parallel requests (on any instance) see each other's events. SQLite
// has one writer per database, and this process's connection runs one work at a time (several
// may share one commit: lib/store/run-transaction.ts);
// PostgreSQL takes a transaction-scoped advisory lock per key, in a fixed order (no deadlock).
// A work that throws counts nothing.
export async function withRateLimits<T>(
  db: TDb,
  { consume = [], check = [], now }: WithRateLimitsOptions,
  work: (trx: Transaction<TDatabase>) => Promise<T>,
): Promise<T> {
  return runTransaction({
    db,
    work: async (trx) => {
      if (db.dialectName === 'postgres') {
        for (const key of [...new Set([...check, ...consume].map(eventKey))].sort()) {
          await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
        }
      }
      for (const use of [...check, ...consume]) await assertBelowLimit(trx, { ...use, now });
      const result = await work(trx);
      for (const use of consume) await recordRateEvent(trx, { ...use, now });
      return result;
    },
  });
}

// One limit, counted: throws its error (with the wait) when the window is full.
export async function consumeRateLimit(db: TDb, { name, key, now }: RateLimitOptions): Promise<void> {
  await withRateLimits(db, { consume: [{ name, key }], now }, async () => undefined);
}

// Forgets one key's events (the sender lifted a recipient's block).
export async function clearRateEvents(db: TDbLike, use: TRateLimitUse): Promise<void> {
  const policy: TRateLimitPolicy = RATE_LIMITS[use.name];
  const table = policy.bucketMs ? 'rate_counters' : 'rate_events';
  await db.deleteFrom(table).where('key', '=', eventKey(use)).execute();
}

// Whether the next event would be refused, without counting one: a form can say so before it is filled in.
export async function isRateLimited(db: TDbLike, options: RateLimitOptions): Promise<boolean> {
  return (await countRateEvents(db, options)) >= RATE_LIMITS[options.name].max;
}

// Housekeeping: events older than the longest window count for nothing. Returns how many were deleted.
export async function purgeRateEvents(db: TDbLike, now: number): Promise<number> {
  const policies: TRateLimitPolicy[] = Object.values(RATE_LIMITS);
  const longest = Math.max(...policies.map((p) => p.windowMs));
  const result = await db
    .deleteFrom('rate_events')
    .where('at', '<=', now - longest)
    .executeTakeFirst();
  const counters = await db
    .deleteFrom('rate_counters')
    .where('bucket', '<=', now - longest - Math.max(...policies.map((p) => p.bucketMs ?? 0)))
    .executeTakeFirst();
  return Number(result.numDeletedRows) + Number(counters.numDeletedRows);
}
