import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createDkimKey } from '@/lib/dkim/create-dkim-key';
import { rotateDkimKeys } from '@/lib/dkim/rotate-dkim-keys';
import { DKIM_RETIRED_KEEP_MS } from '@/lib/dkim/dkim-keys';
import { sendMessage } from '@/lib/messages/send-message';
import { recordRateEvent } from '@/lib/rate-limit/rate-limits';
import { runHousekeeping } from '@/lib/server/housekeeping';
import { HOLD_MS, holdEnvelope } from '@/lib/store/held-envelopes';
import { listRecipients } from '@/lib/store/messages';
import { insertPendingEnvelope } from '@/lib/store/pending-envelopes';
import { runCli } from './helpers/cli';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';

const HOUR = 60 * 60_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

// One row of every kind housekeeping purges whose time is up at `now`, and one that is still live.
async function seedEveryKind(ctx: TTestContext, now: number) {
  const tenant = await seedTenant(ctx);
  const send = async () =>
    (await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }), now: now - 10 * 60_000 })).messageId;
  const [expired, kept, delivered] = [await send(), await send(), await send()];
  await ctx.db
    .updateTable('messages')
    .set({ expires_at: now - 1 })
    .where('id', '=', expired)
    .execute();
  await ctx.db
    .updateTable('messages')
    .set({ expires_at: now + HOUR })
    .where('id', '=', kept)
    .execute();

  // Pending envelopes: one still wanted by a queued wrapper, one no wrapper needs any more.
  await ctx.db.updateTable('outbox').set({ status: 'sent', payload: null }).where('message_id', '=', delivered).execute();
  await insertPendingEnvelope(ctx.db, kept, 'kept-envelope');
  await insertPendingEnvelope(ctx.db, delivered, 'delivered-envelope');

  // Held envelopes: one hold ran out a moment ago, one was made just now.
  await holdEnvelope({ db: ctx.db, messageId: delivered, envelope: 'stale-hold', now: now - HOLD_MS - 1 });
  await holdEnvelope({ db: ctx.db, messageId: kept, envelope: 'live-hold', now });

  // Reader views: one of a message whose held envelope ran out, one with no end of its own.
  const view = (messageId: string, expiresAt: number | null) => ({
    message_id: messageId,
    variant: 'plain',
    version: 'v',
    sealed: Buffer.from('sealed'),
    expires_at: expiresAt,
    created_at: now - 60_000,
  });
  await ctx.db
    .insertInto('reader_views')
    .values([view(delivered, now - 1), view(kept, null)])
    .execute();

  const [recipient] = await listRecipients(ctx.db, kept);
  const session = (id: string, expiresAt: number) => ({
    id,
    tenant_id: tenant.id,
    message_id: kept,
    recipient_id: recipient!.id,
    address: recipient!.address,
    kept: 0,
    created_at: expiresAt - 12 * HOUR,
    last_seen_at: expiresAt - 12 * HOUR,
    expires_at: expiresAt,
    ended_at: null,
  });
  const ids = {
    staleSession: crypto.randomUUID(),
    liveSession: crypto.randomUUID(),
    staleSignIn: crypto.randomUUID(),
    liveSignIn: crypto.randomUUID(),
  };
  await ctx.db
    .insertInto('recipient_sessions')
    .values([session(ids.staleSession, now - 1), session(ids.liveSession, now + HOUR)])
    .execute();
  const signIn = (id: string, expiresAt: number) => ({
    id,
    tenant_id: tenant.id,
    message_id: kept,
    link_token: 'token',
    provider: 'google',
    browser_hash: 'x',
    auth_browser_hash: null,
    keep: 0,
    switch_account: 0,
    status: 'started' as const,
    outcome: null,
    address: null,
    handoff_hash: null,
    created_at: expiresAt - 600_000,
    expires_at: expiresAt,
    handoff_expires_at: null,
  });
  await ctx.db
    .insertInto('federated_signins')
    .values([signIn(ids.staleSignIn, now), signIn(ids.liveSignIn, now + 600_000)])
    .execute();

  // Rate events: one older than the longest window (an hour), one inside it.
  await recordRateEvent(ctx.db, { name: 'passcodeRequestPerIp', key: 'stale', now: now - HOUR - 1 });
  await recordRateEvent(ctx.db, { name: 'passcodeRequestPerIp', key: 'live', now: now - 60_000 });
  // DKIM: a key rotated out more than a week ago goes; the one retired an hour ago and the signing one stay.
  await createDkimKey({ ctx, tenant, algorithm: 'ed25519', selector: 'old', now: now - DKIM_RETIRED_KEEP_MS - 120_000 });
  await rotateDkimKeys({ ctx, tenant, selector: 'mid', now: now - DKIM_RETIRED_KEEP_MS - 60_000 });
  await rotateDkimKeys({ ctx, tenant, selector: 'new', now: now - 60 * 60_000 });
  return { expired, kept, delivered, ...ids };
}

type TSeeded = Awaited<ReturnType<typeof seedEveryKind>>;

// After one pass: each stale row is gone, each live one is still there.
async function expectOnlyLiveRowsLeft(ctx: TTestContext, seeded: TSeeded) {
  const message = (id: string) =>
    ctx.db.selectFrom('messages').select(['wrapped_cek', 'shredded_at']).where('id', '=', id).executeTakeFirstOrThrow();
  expect(await message(seeded.expired)).toMatchObject({ wrapped_cek: null, shredded_at: expect.any(Number) });
  expect((await message(seeded.kept)).wrapped_cek).not.toBeNull();
  expect((await message(seeded.delivered)).wrapped_cek).not.toBeNull();
  expect(await ctx.db.selectFrom('pending_envelopes').select('message_id').execute()).toEqual([{ message_id: seeded.kept }]);
  expect(await ctx.db.selectFrom('held_envelopes').select(['message_id', 'envelope']).execute()).toEqual([
    { message_id: seeded.kept, envelope: 'live-hold' },
  ]);
  expect(await ctx.db.selectFrom('recipient_sessions').select('id').execute()).toEqual([{ id: seeded.liveSession }]);
  expect(await ctx.db.selectFrom('federated_signins').select('id').execute()).toEqual([{ id: seeded.liveSignIn }]);
  expect(await ctx.db.selectFrom('rate_events').select('at').execute()).toHaveLength(1);
  expect(await ctx.db.selectFrom('reader_views').select('message_id').execute()).toEqual([{ message_id: seeded.kept }]);
  expect((await ctx.db.selectFrom('dkim_keys').select('selector').orderBy('selector').execute()).map((k) => k.selector)).toEqual([
    'mid',
    'new',
  ]);
}

const ONE_OF_EACH = {
  shredded: 1,
  sessions: 1,
  federatedSignIns: 1,
  rateEvents: 1,
  heldEnvelopes: 1,
  readerViews: 1,
  pendingEnvelopes: 1,
  dkimKeys: 1,
};

describe('housekeeping', () => {
  it('runHousekeeping purges every kind whose time is up and keeps what is still live', async () => {
    const ctx = await createTestContext();
    cleanups.push(() => ctx.close());
    const now = Date.now();
    const seeded = await seedEveryKind(ctx, now);
    expect(await runHousekeeping({ ctx, now })).toEqual(ONE_OF_EACH);
    await expectOnlyLiveRowsLeft(ctx, seeded);
    // A second pass finds nothing more to do.
    expect(await runHousekeeping({ ctx, now })).toEqual({
      shredded: 0,
      sessions: 0,
      federatedSignIns: 0,
      rateEvents: 0,
      heldEnvelopes: 0,
      readerViews: 0,
      pendingEnvelopes: 0,
      dkimKeys: 0,
    });
  });

  it('`sealpost purge` runs the same pass and reports what it purged', async () => {
    const ctx = await createTestContext();
    cleanups.push(() => ctx.close());
    const seeded = await seedEveryKind(ctx, Date.now());
    const r = runCli(['purge'], ctx.cliEnv);
    expect(r.status).toBe(0);
    expect(r.json).toEqual(ONE_OF_EACH);
    await expectOnlyLiveRowsLeft(ctx, seeded);
  });
});
