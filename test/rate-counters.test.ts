import path from 'node:path';
import { Migrator } from 'kysely/migration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@/lib/errors';
import { clearRateEvents, consumeRateLimit, eventKey, isRateLimited, purgeRateEvents, RATE_LIMITS } from '@/lib/rate-limit/rate-limits';
import { migrateToLatest, openDatabase } from '@/lib/store/db';
import { createMigrationProvider } from '@/lib/store/migrations';
import { createPgDatabase, createTestContext, makeTempDir, TEST_DIALECT, type TTestContext } from './helpers/context';

// A bucketed limit (relayMessagesPerTenant: 50,000 an hour, per minute bucket) counts one row per
// key and minute instead of one per event, and still never lets more than max into an hour.
const NAME = 'relayMessagesPerTenant';
const { max, windowMs, bucketMs } = RATE_LIMITS[NAME];
const HOUR_START = Date.UTC(2026, 10, 23, 10, 0, 0);

let ctx: TTestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx?.close();
});

const counters = (key: string) =>
  ctx.db
    .selectFrom('rate_counters')
    .select(['bucket', 'count'])
    .where('key', '=', eventKey({ name: NAME, key }))
    .orderBy('bucket')
    .execute();

const fill = (key: string, rows: Array<{ bucket: number; count: number }>) =>
  ctx.db
    .insertInto('rate_counters')
    .values(rows.map((r) => ({ key: eventKey({ name: NAME, key }), ...r })))
    .execute();

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => (isAppError(error) ? error : Promise.reject(error)),
  );

describe('bucketed rate counters', () => {
  it('counts events of one minute on one row, and nothing in rate_events', async () => {
    for (let i = 0; i < 3; i += 1) await consumeRateLimit(ctx.db, { name: NAME, key: 'tenant-a', now: HOUR_START + 5_000 + i });
    await consumeRateLimit(ctx.db, { name: NAME, key: 'tenant-a', now: HOUR_START + 61_000 });
    expect((await counters('tenant-a')).map((r) => ({ bucket: Number(r.bucket), count: Number(r.count) }))).toEqual([
      { bucket: HOUR_START, count: 3 },
      { bucket: HOUR_START + bucketMs, count: 1 },
    ]);
    expect(await ctx.db.selectFrom('rate_events').select('key').execute()).toEqual([]);
  });

  it('refuses at max with the wait until the oldest minute has left the hour, and counts nothing refused', async () => {
    await fill('tenant-b', [
      { bucket: HOUR_START, count: 10 },
      { bucket: HOUR_START + 30 * bucketMs, count: max - 10 },
    ]);
    const now = HOUR_START + 40 * bucketMs;
    expect(await isRateLimited(ctx.db, { name: NAME, key: 'tenant-b', now })).toBe(true);
    const error = await refusal(consumeRateLimit(ctx.db, { name: NAME, key: 'tenant-b', now }));
    expect(error?.code).toBe('RATE_LIMITED');
    // The 10:00 minute leaves the window at 11:01 (counted whole while any of it is inside).
    expect(error?.details).toEqual({ retryAfterSeconds: (HOUR_START + bucketMs + windowMs - now) / 1000 });
    expect((await counters('tenant-b')).reduce((sum, r) => sum + Number(r.count), 0)).toBe(max);
    // Once that minute is wholly out of the hour, there is room again.
    const later = HOUR_START + bucketMs + windowMs;
    expect(await isRateLimited(ctx.db, { name: NAME, key: 'tenant-b', now: later })).toBe(false);
    await consumeRateLimit(ctx.db, { name: NAME, key: 'tenant-b', now: later });
  });

  it('lets exactly the room left through when many consume at once', async () => {
    await fill('tenant-c', [{ bucket: HOUR_START, count: max - 5 }]);
    const now = HOUR_START + 10 * bucketMs;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => refusal(consumeRateLimit(ctx.db, { name: NAME, key: 'tenant-c', now }))),
    );
    expect(results.filter((r) => r === null)).toHaveLength(5);
    expect(results.filter((r) => r?.code === 'RATE_LIMITED')).toHaveLength(15);
    expect((await counters('tenant-c')).reduce((sum, r) => sum + Number(r.count), 0)).toBe(max);
  });

  it('clears a key and purges minutes older than any window', async () => {
    await clearRateEvents(ctx.db, { name: NAME, key: 'tenant-c' });
    expect(await counters('tenant-c')).toEqual([]);
    await fill('tenant-d', [
      { bucket: HOUR_START - 2 * windowMs, count: 7 },
      { bucket: HOUR_START, count: 1 },
    ]);
    await purgeRateEvents(ctx.db, HOUR_START + 5_000);
    expect((await counters('tenant-d')).map((r) => Number(r.bucket))).toEqual([HOUR_START]);
  });
});

describe('0020_relay_counters', () => {
  it("turns the relay's events into per-minute counters at the upgrade and leaves other limits' events", async () => {
    const pgDatabase = TEST_DIALECT === 'postgres' ? await createPgDatabase() : null;
    const db = openDatabase({ databaseUrl: pgDatabase?.url ?? path.join(makeTempDir(), 'upgrade.db') });
    try {
      const migrator = new Migrator({ db, provider: createMigrationProvider(db.dialectName) });
      const before = await migrator.migrateTo('0017_message_subject');
      expect(before.error).toBeUndefined();
      const relayKey = eventKey({ name: NAME, key: 'tenant-u' });
      const otherKey = eventKey({ name: 'passcodeRequestPerIp', key: '203.0.113.9' });
      await db
        .insertInto('rate_events')
        .values([
          { key: relayKey, at: HOUR_START + 1_000 },
          { key: relayKey, at: HOUR_START + 59_999 },
          { key: relayKey, at: HOUR_START + 60_000 },
          { key: otherKey, at: HOUR_START + 1_000 },
        ])
        .execute();
      await migrateToLatest(db);
      const rows = await db.selectFrom('rate_counters').select(['key', 'bucket', 'count']).orderBy('bucket').execute();
      expect(rows.map((r) => ({ key: r.key, bucket: Number(r.bucket), count: Number(r.count) }))).toEqual([
        { key: relayKey, bucket: HOUR_START, count: 2 },
        { key: relayKey, bucket: HOUR_START + bucketMs, count: 1 },
      ]);
      expect(await db.selectFrom('rate_events').select('key').execute()).toEqual([{ key: otherKey }]);
    } finally {
      await db.destroy();
      await pgDatabase?.drop();
    }
  });
});
