import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSCODE_MAX_CONSECUTIVE_FAILURES } from '@/lib/auth/passcodes/passcode-hash';
import { requestPasscode, type TPasscodeChallenge } from '@/lib/auth/passcodes/request-passcode';
import { verifyPasscode } from '@/lib/auth/passcodes/verify-passcode';
import { getTenantKey } from '@/lib/envelope/tenant-keys';
import { isAppError } from '@/lib/errors';
import { openOutboxPayload } from '@/lib/mail/outbox';
import { sendMessage } from '@/lib/messages/send-message';
import { RATE_LIMITS } from '@/lib/rate-limit/rate-limits';
import type { TTenant } from '@/lib/tenants/tenants';
import { runCli } from './helpers/cli';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { newIp } from './helpers/ip';

// The passcode limits under concurrency (each is checked and counted in one serialised step) and
// the hard stop on guessing, on SQLite and PostgreSQL.
let ctx: TTestContext;
let tenant: TTenant;
beforeAll(async () => {
  ctx = await createTestContext();
  tenant = await seedTenant(ctx);
});
afterAll(() => ctx?.close());

const MINUTE = 60_000;
const newMessage = async (to = ['bob@gmail.com']) => (await sendMessage({ ctx, tenant, raw: sampleEml({ to }), deliver: false })).messageId;

async function outcome(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (error === null) return 'ok';
  if (!isAppError(error)) throw error;
  return error.code;
}

// The code the recipient would read in their mail, for one challenge.
async function codeOf(challenge: TPasscodeChallenge): Promise<string> {
  const rows = await ctx.db.selectFrom('outbox').selectAll().where('kind', '=', 'passcode').orderBy('created_at', 'desc').execute();
  for (const row of rows) {
    const key = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: row.tenant_id, version: row.key_version });
    const parsed = await simpleParser(openOutboxPayload(row, key));
    if (parsed.subject?.includes(challenge.reference)) return /\b(\d{8})\b/.exec(parsed.subject)![1]!;
  }
  throw new Error('no passcode mail for this challenge');
}
const wrongFor = (code: string) => (code === '12345678' ? '87654321' : '12345678');

const challengesOf = (messageId: string) =>
  ctx.db.selectFrom('passcode_challenges').select(['created_at']).where('message_id', '=', messageId).orderBy('created_at').execute();

describe('passcode limits under 50 parallel requests', () => {
  it('50 parallel requests at one moment create exactly one code', async () => {
    const messageId = await newMessage();
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => outcome(requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now }))),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'RATE_LIMITED')).toHaveLength(49);
    expect(await challengesOf(messageId)).toHaveLength(1);
    const mails = await ctx.db
      .selectFrom('outbox')
      .select('id')
      .where('message_id', '=', messageId)
      .where('kind', '=', 'passcode')
      .execute();
    expect(mails).toHaveLength(1);
  });

  it('50 parallel requests spread over 25 minutes never put more than 5 codes in 15 minutes, or two within 30 s', async () => {
    const messageId = await newMessage();
    const t0 = Date.now();
    const times = Array.from({ length: 50 }, (_, i) => t0 + i * 31_000);
    const results = await Promise.all(
      times.map((now) => outcome(requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now }))),
    );
    expect(results.every((r) => r === 'ok' || r === 'RATE_LIMITED')).toBe(true);
    const created = (await challengesOf(messageId)).map((c) => Number(c.created_at));
    expect(created.length).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < created.length; i += 1) {
      if (i > 0) expect(created[i]! - created[i - 1]!).toBeGreaterThanOrEqual(30_000);
      expect(created.filter((t) => t >= created[i]! && t < created[i]! + 15 * MINUTE).length).toBeLessThanOrEqual(5);
    }
  });

  it('50 parallel wrong guesses over five codes are counted exactly: 20 failures, then the lock-out', async () => {
    const messageId = await newMessage();
    const t0 = Date.now();
    const challenges: TPasscodeChallenge[] = [];
    for (let i = 0; i < 5; i += 1)
      challenges.push(await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now: t0 + i * 31_000 }));
    const codes = await Promise.all(challenges.map(codeOf));
    const at = t0 + 5 * 31_000;
    const guesses = Array.from({ length: 50 }, (_, i) => i % 5);
    const results = await Promise.all(
      guesses.map((c) =>
        outcome(
          verifyPasscode({
            ctx,
            tenant,
            challengeId: challenges[c]!.challengeId,
            code: wrongFor(codes[c]!),
            browserSecret: challenges[c]!.browserSecret,
            ip: newIp(),
            now: at,
          }),
        ),
      ),
    );
    expect(results.filter((r) => r === 'PASSCODE_WRONG')).toHaveLength(RATE_LIMITS.passcodeFailuresPerRecipient.max);
    expect(results.filter((r) => r === 'PASSCODE_WRONG' || r === 'LOCKED_OUT' || r === 'PASSCODE_EXHAUSTED')).toHaveLength(50);
    const failures = await ctx.db
      .selectFrom('audit_events')
      .select('id')
      .where('message_id', '=', messageId)
      .where('type', '=', 'signin_failed')
      .execute();
    expect(failures).toHaveLength(20);
    // Locked out: even the right code of a fresh challenge is not compared.
    const fifth = challenges[4]!;
    expect(
      await outcome(
        verifyPasscode({
          ctx,
          tenant,
          challengeId: fifth.challengeId,
          code: codes[4]!,
          browserSecret: fifth.browserSecret,
          ip: newIp(),
          now: at,
        }),
      ),
    ).toBe('LOCKED_OUT');
  });

  it("per-IP limits are per tenant: one tenant's traffic from an address does not lock it out of another tenant", async () => {
    const other = await seedTenant(ctx, { mailDomain: 'other-bank.example' });
    const ip = '198.51.100.77';
    const t0 = Date.now();
    const ids = await Promise.all(Array.from({ length: 31 }, () => newMessage()));
    await Promise.all(ids.map((id) => outcome(requestPasscode({ ctx, tenant, messageId: id, address: 'bob@gmail.com', ip, now: t0 }))));
    expect(await outcome(requestPasscode({ ctx, tenant, messageId: ids[0]!, address: 'carol@yahoo.com', ip, now: t0 }))).toBe(
      'RATE_LIMITED',
    );
    const theirs = (
      await sendMessage({ ctx, tenant: other, raw: sampleEml({ to: ['bob@gmail.com'], from: 'O <o@other-bank.example>' }), deliver: false })
    ).messageId;
    expect(await outcome(requestPasscode({ ctx, tenant: other, messageId: theirs, address: 'bob@gmail.com', ip, now: t0 }))).toBe('ok');
  });
});

describe('the hard stop on guessing', () => {
  // Wrong passcodes as an attacker pacing themselves under the hourly lock-out would send them.
  async function guessWrong({ messageId, count, start }: { messageId: string; count: number; start: number }): Promise<number> {
    let now = start;
    let sent = 0;
    while (sent < count) {
      const perHour = Math.min(RATE_LIMITS.passcodeFailuresPerRecipient.max, count - sent);
      for (let n = 0; n < perHour; n += 5) {
        const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now });
        const wrong = wrongFor(await codeOf(c));
        for (let i = 0; i < Math.min(5, perHour - n); i += 1) {
          expect(
            await outcome(
              verifyPasscode({ ctx, tenant, challengeId: c.challengeId, code: wrong, browserSecret: c.browserSecret, ip: newIp(), now }),
            ),
          ).toBe('PASSCODE_WRONG');
          sent += 1;
        }
        now += 4 * MINUTE;
      }
      now = start + Math.ceil((now - start) / (61 * MINUTE)) * 61 * MINUTE;
    }
    return now;
  }
  const recipientRow = (messageId: string) =>
    ctx.db
      .selectFrom('recipients')
      .select(['passcode_failures', 'passcode_blocked_at'])
      .where('message_id', '=', messageId)
      .where('address', '=', 'bob@gmail.com')
      .executeTakeFirstOrThrow();

  it(`after ${PASSCODE_MAX_CONSECUTIVE_FAILURES} wrong passcodes in a row no code is sent or compared until the sender lifts the block`, async () => {
    const messageId = await newMessage();
    const t0 = Date.now();
    const after = await guessWrong({ messageId, count: PASSCODE_MAX_CONSECUTIVE_FAILURES, start: t0 });
    expect(await recipientRow(messageId)).toMatchObject({ passcode_failures: PASSCODE_MAX_CONSECUTIVE_FAILURES });
    expect((await recipientRow(messageId)).passcode_blocked_at).not.toBeNull();
    // Hours later, whatever the hourly windows say: no new code, and no mail.
    const later = after + 5 * 60 * MINUTE;
    const mailsBefore = (
      await ctx.db.selectFrom('outbox').select('id').where('message_id', '=', messageId).where('kind', '=', 'passcode').execute()
    ).length;
    expect(await outcome(requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now: later }))).toBe(
      'SIGNIN_BLOCKED',
    );
    expect(
      (await ctx.db.selectFrom('outbox').select('id').where('message_id', '=', messageId).where('kind', '=', 'passcode').execute()).length,
    ).toBe(mailsBefore);

    // The sender lets them in again (the CLI, on the same database).
    const unblocked = runCli(['unblock', messageId, 'Bob@Gmail.com'], ctx.cliEnv);
    expect(unblocked.status, unblocked.stderr).toBe(0);
    expect(unblocked.json).toMatchObject({ messageId, address: 'Bob@Gmail.com', wasBlocked: true });
    const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now: later });
    await expect(
      verifyPasscode({
        ctx,
        tenant,
        challengeId: c.challengeId,
        code: await codeOf(c),
        browserSecret: c.browserSecret,
        ip: newIp(),
        now: later,
      }),
    ).resolves.toMatchObject({ messageId });
    const audit = await ctx.db
      .selectFrom('audit_events')
      .select(['type', 'actor'])
      .where('message_id', '=', messageId)
      .where('type', '=', 'signin_unblocked')
      .execute();
    expect(audit).toEqual([{ type: 'signin_unblocked', actor: 'cli' }]);
  });

  it('a block also stops the right code of a challenge asked for before it', async () => {
    const messageId = await newMessage();
    const t0 = Date.now();
    const after = await guessWrong({ messageId, count: PASSCODE_MAX_CONSECUTIVE_FAILURES - 1, start: t0 });
    const pending = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now: after });
    const other = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now: after + 31_000 });
    expect(
      await outcome(
        verifyPasscode({
          ctx,
          tenant,
          challengeId: other.challengeId,
          code: wrongFor(await codeOf(other)),
          browserSecret: other.browserSecret,
          ip: newIp(),
          now: after + 31_000,
        }),
      ),
    ).toBe('PASSCODE_WRONG');
    expect(
      await outcome(
        verifyPasscode({
          ctx,
          tenant,
          challengeId: pending.challengeId,
          code: await codeOf(pending),
          browserSecret: pending.browserSecret,
          ip: newIp(),
          now: after + 32_000,
        }),
      ),
    ).toBe('SIGNIN_BLOCKED');
  });

  it('only a successful sign-in ends a run of wrong passcodes', async () => {
    const messageId = await newMessage();
    const t0 = Date.now();
    const after = await guessWrong({ messageId, count: 40, start: t0 });
    expect((await recipientRow(messageId)).passcode_failures).toBe(40);
    const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip: newIp(), now: after });
    await verifyPasscode({
      ctx,
      tenant,
      challengeId: c.challengeId,
      code: await codeOf(c),
      browserSecret: c.browserSecret,
      ip: newIp(),
      now: after,
    });
    expect(await recipientRow(messageId)).toEqual({ passcode_failures: 0, passcode_blocked_at: null });
  });

  it('unblock refuses an unknown message or address', () => {
    const r = runCli(['unblock', '00000000-0000-4000-8000-000000000000', 'bob@gmail.com'], ctx.cliEnv);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('No such recipient');
  });
});
