import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSCODE_TTL_MS } from '@/lib/auth/passcodes/passcode-hash';
import { requestPasscode } from '@/lib/auth/passcodes/request-passcode';
import { verifyPasscode } from '@/lib/auth/passcodes/verify-passcode';
import { revokeMessage } from '@/lib/envelope/revoke-message';
import { getTenantKey } from '@/lib/envelope/tenant-keys';
import { openOutboxPayload } from '@/lib/mail/outbox';
import { sendMessage } from '@/lib/messages/send-message';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { errorCode } from './helpers/errors';
import { newIp } from './helpers/ip';

let ctx: TTestContext;
let tenant: TTenant;
beforeAll(async () => {
  ctx = await createTestContext();
  tenant = await seedTenant(ctx);
});
afterAll(() => ctx?.close());

// Each test its own message and IP, so limits of one test never leak into another.
async function newMessage(to = ['bob@gmail.com']) {
  return (await sendMessage({ ctx, tenant, raw: sampleEml({ to }), deliver: false })).messageId;
}

// Reads the passcode the way the recipient does: from the queued mail (decrypted with the tenant key).
async function passcodeMail(messageId: string) {
  const rows = await ctx.db
    .selectFrom('outbox')
    .selectAll()
    .where('message_id', '=', messageId)
    .where('kind', '=', 'passcode')
    .orderBy('created_at', 'desc')
    .execute();
  return Promise.all(
    rows.map(async (row) => {
      const key = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: row.tenant_id, version: row.key_version });
      const parsed = await simpleParser(openOutboxPayload(row, key));
      return { row, parsed, code: /\b(\d{8})\b/.exec(parsed.subject ?? '')?.[1] ?? '' };
    }),
  );
}

async function latestCode(messageId: string): Promise<string> {
  const [mail] = await passcodeMail(messageId);
  if (!mail?.code) throw new Error('no passcode mail was queued');
  return mail.code;
}

describe('passcodes', () => {
  it('mails an 8-digit code with its reference in the subject, ahead of other mail, and stores only a keyed hash', async () => {
    const messageId = await newMessage();
    const t0 = Date.now();
    const c = await requestPasscode({ ctx, tenant, messageId, address: 'Bob@Gmail.com', ip: newIp(), now: t0 });
    expect(c.reference).toMatch(/^[A-Z2-9]{4}$/);
    expect(c.expiresAt).toBe(t0 + PASSCODE_TTL_MS);
    const [mail] = await passcodeMail(messageId);
    expect(mail!.code).toMatch(/^\d{8}$/);
    expect(mail!.parsed.subject).toContain(c.reference);
    expect(mail!.parsed.text).toContain(mail!.code);
    expect(mail!.row.priority).toBeLessThan(
      (await ctx.db.selectFrom('outbox').select('priority').where('kind', '=', 'wrapper').executeTakeFirst())?.priority ?? 10,
    );
    expect(mail!.row.rcpt_to).toBe('bob@gmail.com');
    const stored = await ctx.db.selectFrom('passcode_challenges').selectAll().where('id', '=', c.challengeId).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(mail!.code);
    expect(Buffer.from(mail!.row.payload!).toString('latin1')).not.toContain(mail!.code);
  });

  it('verifies the right code once, in the browser that asked', async () => {
    const messageId = await newMessage();
    const ip = newIp();
    const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip });
    const code = await latestCode(messageId);
    expect(await errorCode(verifyPasscode({ ctx, tenant, challengeId: c.challengeId, code, browserSecret: 'another-browser', ip }))).toBe(
      'PASSCODE_WRONG',
    );
    const ok = await verifyPasscode({
      ctx,
      tenant,
      challengeId: c.challengeId,
      code: `${code.slice(0, 4)} ${code.slice(4)}`,
      browserSecret: c.browserSecret,
      ip,
    });
    expect(ok).toMatchObject({ messageId, address: 'bob@gmail.com' });
    expect(await errorCode(verifyPasscode({ ctx, tenant, challengeId: c.challengeId, code, browserSecret: c.browserSecret, ip }))).toBe(
      'PASSCODE_INVALID',
    );
  });

  it('a template with passcodes turned off refuses them: no code is sent, and a code sent before no longer verifies', async () => {
    const quiet = await seedTenant(ctx, { slug: `quiet${Date.now()}`, mailDomain: 'quiet.example' });
    await setBranding({ db: ctx.db, tenantId: quiet.id, template: 'federated-only', input: { signInMethods: { passcode: false } } });
    const raw = sampleEml({ to: ['bob@gmail.com'], from: 'Q <q@quiet.example>' });
    const off = (await sendMessage({ ctx, tenant: quiet, raw, template: 'federated-only', deliver: false })).messageId;
    expect(await errorCode(requestPasscode({ ctx, tenant: quiet, messageId: off, address: 'bob@gmail.com', ip: newIp() }))).toBe(
      'FORBIDDEN',
    );
    expect(await passcodeMail(off)).toEqual([]);

    const on = (await sendMessage({ ctx, tenant: quiet, raw, deliver: false })).messageId;
    const ip = newIp();
    const c = await requestPasscode({ ctx, tenant: quiet, messageId: on, address: 'bob@gmail.com', ip });
    const code = await latestCode(on);
    await setBranding({ db: ctx.db, tenantId: quiet.id, input: { signInMethods: { passcode: false } } });
    expect(
      await errorCode(verifyPasscode({ ctx, tenant: quiet, challengeId: c.challengeId, code, browserSecret: c.browserSecret, ip })),
    ).toBe('FORBIDDEN');
  });

  it('kills a code after 5 wrong tries, even for the right code afterwards', async () => {
    const messageId = await newMessage();
    const ip = newIp();
    const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip });
    const code = await latestCode(messageId);
    const wrong = code === '00000000' ? '11111111' : '00000000';
    for (let i = 0; i < 5; i += 1) {
      expect(
        await errorCode(verifyPasscode({ ctx, tenant, challengeId: c.challengeId, code: wrong, browserSecret: c.browserSecret, ip })),
      ).toBe('PASSCODE_WRONG');
    }
    expect(await errorCode(verifyPasscode({ ctx, tenant, challengeId: c.challengeId, code, browserSecret: c.browserSecret, ip }))).toBe(
      'PASSCODE_EXHAUSTED',
    );
  });

  it('lets parallel guesses make at most 5 comparisons', async () => {
    const messageId = await newMessage();
    const ip = newIp();
    const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip });
    const code = await latestCode(messageId);
    const guesses = Array.from({ length: 30 }, (_, i) => String((Number(code) + i + 1) % 100_000_000).padStart(8, '0'));
    const results = await Promise.all(
      guesses.map((g) =>
        errorCode(verifyPasscode({ ctx, tenant, challengeId: c.challengeId, code: g, browserSecret: c.browserSecret, ip })),
      ),
    );
    expect(results.filter((r) => r === 'PASSCODE_WRONG')).toHaveLength(5);
    expect(results.filter((r) => r === 'PASSCODE_EXHAUSTED')).toHaveLength(25);
    const row = await ctx.db.selectFrom('passcode_challenges').select('attempts').where('id', '=', c.challengeId).executeTakeFirstOrThrow();
    expect(row.attempts).toBe(5);
  });

  it('refuses an expired code', async () => {
    const messageId = await newMessage();
    const ip = newIp();
    const t0 = Date.now();
    const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: t0 });
    const code = await latestCode(messageId);
    expect(
      await errorCode(
        verifyPasscode({ ctx, tenant, challengeId: c.challengeId, code, browserSecret: c.browserSecret, ip, now: t0 + PASSCODE_TTL_MS }),
      ),
    ).toBe('PASSCODE_EXPIRED');
  });

  it('limits resends to one per 30 s and 5 per 15 minutes', async () => {
    const messageId = await newMessage();
    const ip = newIp();
    const t0 = Date.now();
    await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: t0 });
    expect(await errorCode(requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: t0 + 29_000 }))).toBe(
      'RATE_LIMITED',
    );
    for (let i = 1; i < 5; i += 1) await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: t0 + i * 31_000 });
    expect(await errorCode(requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: t0 + 5 * 31_000 }))).toBe(
      'RATE_LIMITED',
    );
    await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: t0 + 15 * 60_000 + 1 });
  });

  it('does not reset failures with a new code: 20 wrong passcodes an hour lock the recipient out', async () => {
    const messageId = await newMessage();
    const ip = newIp();
    const t0 = Date.now();
    for (let round = 0; round < 4; round += 1) {
      const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: t0 + round * 31_000 });
      for (let i = 0; i < 5; i += 1) {
        await errorCode(
          verifyPasscode({
            ctx,
            tenant,
            challengeId: c.challengeId,
            code: '12345678',
            browserSecret: c.browserSecret,
            ip,
            now: t0 + round * 31_000 + i,
          }),
        );
      }
    }
    const later = t0 + 4 * 31_000;
    expect(await errorCode(requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: later }))).toBe('LOCKED_OUT');
    // Another recipient of the same message is not locked out.
    await requestPasscode({
      ctx,
      tenant,
      messageId: await newMessage(['bob@gmail.com', 'carol@yahoo.com']),
      address: 'carol@yahoo.com',
      ip,
      now: later,
    });
    // An hour later the lock is gone.
    await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: t0 + 60 * 60_000 + 5 * 31_000 });
  });

  it('answers a non-recipient exactly like a recipient, sends nothing, and never verifies', async () => {
    const messageId = await newMessage();
    const ip = newIp();
    const real = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip });
    const fake = await requestPasscode({ ctx, tenant, messageId, address: 'mallory@evil.example', ip });
    expect(Object.keys(fake).sort()).toEqual(Object.keys(real).sort());
    expect(fake.reference).toMatch(/^[A-Z2-9]{4}$/);
    const mails = await passcodeMail(messageId);
    expect(mails.map((m) => m.row.rcpt_to)).toEqual(['bob@gmail.com']);
    for (const guess of ['00000000', mails[0]!.code]) {
      expect(
        await errorCode(verifyPasscode({ ctx, tenant, challengeId: fake.challengeId, code: guess, browserSecret: fake.browserSecret, ip })),
      ).toBe('PASSCODE_WRONG');
    }
  });

  it("refuses another tenant's message, a revoked message, and unknown ids", async () => {
    const ip = newIp();
    const other = await seedTenant(ctx);
    const messageId = await newMessage();
    expect(await errorCode(requestPasscode({ ctx, tenant: other, messageId, address: 'bob@gmail.com', ip }))).toBe('NOT_FOUND');
    expect(await errorCode(requestPasscode({ ctx, tenant, messageId: "x' OR 1=1 --", address: 'bob@gmail.com', ip }))).toBe('NOT_FOUND');
    const c = await requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip });
    expect(
      await errorCode(
        verifyPasscode({ ctx, tenant: other, challengeId: c.challengeId, code: '12345678', browserSecret: c.browserSecret, ip }),
      ),
    ).toBe('PASSCODE_INVALID');
    await revokeMessage({ db: ctx.db, messageId });
    expect(await errorCode(requestPasscode({ ctx, tenant, messageId, address: 'bob@gmail.com', ip, now: Date.now() + 60_000 }))).toBe(
      'ENVELOPE_REVOKED',
    );
  });

  it('limits passcode requests per IP address', async () => {
    const ip = newIp();
    const t0 = Date.now();
    const ids = await Promise.all(Array.from({ length: 31 }, () => newMessage()));
    for (const id of ids.slice(0, 30)) await requestPasscode({ ctx, tenant, messageId: id, address: 'bob@gmail.com', ip, now: t0 });
    expect(await errorCode(requestPasscode({ ctx, tenant, messageId: ids[30]!, address: 'bob@gmail.com', ip, now: t0 }))).toBe(
      'RATE_LIMITED',
    );
    await requestPasscode({ ctx, tenant, messageId: ids[30]!, address: 'bob@gmail.com', ip: newIp(), now: t0 });
  });
});
