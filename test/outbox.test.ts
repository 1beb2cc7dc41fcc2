import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '@/lib/env';
import { revokeMessage } from '@/lib/envelope/revoke-message';
import { claimDueMail, enqueueMail, GIVE_UP_AFTER_MS } from '@/lib/mail/outbox';
import { getTenantKey } from '@/lib/envelope/tenant-keys';
import { processOutboxBatch } from '@/lib/mail/outbox-worker';
import { createMailTransport, type TMailTransport } from '@/lib/mail/transport';
import { sendMessage } from '@/lib/messages/send-message';
import { readRecipientToken } from '@/lib/envelope/recipient-token';
import { acceptPostedEnvelope } from '@/lib/portal/accept-posted-envelope';
import { setBranding } from '@/lib/templates/set-branding';
import type { TReceivedMail } from './helpers/smtp-sink';
import { runCli, startCli, stopChild } from './helpers/cli';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { freePort } from './helpers/server';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(smtpPort: number) {
  const ctx: TTestContext = await createTestContext({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
  cleanups.push(() => ctx.close());
  const tenant = await seedTenant(ctx);
  const transport = createMailTransport({ smtpUrl: ctx.config.SMTP_URL, dataDir: ctx.dataDir });
  cleanups.push(async () => transport.close());
  return { ctx, tenant, transport };
}

async function sink(port = 0): Promise<TSmtpSink> {
  const s = await startSmtpSink(port);
  cleanups.push(() => s.close());
  return s;
}

const statuses = async (ctx: TTestContext) =>
  await ctx.db.selectFrom('outbox').select(['status', 'payload', 'attempts', 'next_attempt_at']).execute();

describe('durable outbox', () => {
  it('keeps mail while the SMTP server is down and delivers it when it comes back', async () => {
    const port = await freePort();
    const { ctx, tenant, transport } = await setup(port);
    const t0 = Date.now();
    await sendMessage({ ctx, tenant, raw: sampleEml(), now: t0 });

    const down = await processOutboxBatch({ ctx, transport, now: t0 });
    expect(down).toMatchObject({ claimed: 2, retried: 2, sent: 0 });
    for (const row of await statuses(ctx)) {
      expect(row.status).toBe('queued');
      expect(row.payload).not.toBeNull();
      expect(row.next_attempt_at).toBeGreaterThanOrEqual(t0 + 60_000);
    }

    const smtp = await sink(port);
    // Not due yet: a retry waits its turn, minutes apart, as an MTA would.
    expect((await processOutboxBatch({ ctx, transport, now: t0 + 1_000 })).claimed).toBe(0);
    const back = await processOutboxBatch({ ctx, transport, now: t0 + 3 * 60_000 });
    expect(back).toMatchObject({ claimed: 2, sent: 2 });
    await smtp.waitFor(2);
    expect(smtp.mails.map((m) => m.rcptTo).sort()).toEqual([['bob@gmail.com'], ['carol@yahoo.com']]);
    for (const row of await statuses(ctx)) {
      expect(row.status).toBe('sent');
      expect(row.payload).toBeNull();
    }
  });

  it('retries a 4xx answer and records a 5xx answer as a bounce', async () => {
    const smtp = await sink();
    const { ctx, tenant, transport } = await setup(smtp.port);
    const t0 = Date.now();
    const sent = await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }), now: t0 });

    smtp.failWith = 451;
    expect(await processOutboxBatch({ ctx, transport, now: t0 })).toMatchObject({ retried: 1 });
    smtp.failWith = 550;
    expect(await processOutboxBatch({ ctx, transport, now: t0 + 10 * 60_000 })).toMatchObject({ bounced: 1 });
    const [row] = await ctx.db.selectFrom('outbox').selectAll().execute();
    expect(row).toMatchObject({ status: 'bounced', attempts: 2, payload: null });
    expect(row!.last_error).toMatch(/^550 /);
    const audit = await ctx.db.selectFrom('audit_events').selectAll().where('type', '=', 'bounced').execute();
    expect(audit.map((a) => a.message_id)).toEqual([sent.messageId]);
    expect(smtp.mails).toHaveLength(0);
  });

  it('gives up after five days of temporary failures', async () => {
    const port = await freePort();
    const { ctx, tenant, transport } = await setup(port);
    const t0 = Date.now();
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }), now: t0 });
    expect(await processOutboxBatch({ ctx, transport, now: t0 })).toMatchObject({ retried: 1 });
    expect(await processOutboxBatch({ ctx, transport, now: t0 + GIVE_UP_AFTER_MS })).toMatchObject({ failed: 1 });
    expect((await statuses(ctx))[0]).toMatchObject({ status: 'failed', payload: null });
  });

  it('stores queued mail sealed: no subject or address of the message is readable in the outbox', async () => {
    const port = await freePort();
    const { ctx, tenant } = await setup(port);
    await sendMessage({ ctx, tenant, raw: sampleEml({ subject: 'Loan decision for Bob' }) });
    const rows = await ctx.db.selectFrom('outbox').select('payload').execute();
    for (const row of rows) {
      const text = Buffer.from(row.payload!).toString('latin1');
      expect(text).not.toContain('Loan decision');
      expect(text).not.toContain('message.html');
    }
  });

  it('loses nothing when the worker process is killed in the middle of a batch', async () => {
    const smtp = await sink();
    smtp.delayMs = 150;
    const { ctx, tenant } = await setup(smtp.port);
    const recipients = Array.from({ length: 12 }, (_, i) => `r${i}@example.org`);
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: recipients }) });
    const expectedIds = (await ctx.db.selectFrom('outbox').select('smtp_message_id').execute()).map((r) => r.smtp_message_id).sort();
    const env = { ...ctx.cliEnv, SMTP_URL: smtp.url, SEALPOST_OUTBOX_LEASE_SECONDS: '2', SEALPOST_OUTBOX_POLL_MS: '100' };

    const first = startCli(['worker'], env);
    await smtp.waitFor(3, 30_000);
    await stopChild(first, 'SIGKILL');
    const deliveredBeforeKill = smtp.mails.length;
    expect(deliveredBeforeKill).toBeLessThan(12);

    const second = startCli(['worker'], env);
    cleanups.push(() => stopChild(second));
    const start = Date.now();
    while (new Set(smtp.mails.map((m) => m.parsed.messageId)).size < 12 && Date.now() - start < 40_000) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const received = [...new Set(smtp.mails.map((m) => `<${m.parsed.messageId?.replace(/^<|>$/g, '')}>`))].sort();
    expect(received).toEqual(expectedIds);
    // Each mail went to its own recipient only; a resend after the crash has the same Message-ID.
    for (const m of smtp.mails) expect(m.rcptTo).toHaveLength(1);
    // A mail the killed worker had in its SMTP session may have arrived without being marked sent:
    // its lease runs out (2 s) and the second worker sends it again. Every row ends up sent.
    const isAllSent = async () => (await ctx.db.selectFrom('outbox').select('status').execute()).every((r) => r.status === 'sent');
    for (const until = Date.now() + 30_000; !(await isAllSent()) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    await stopChild(second);
    expect(await isAllSent()).toBe(true);
  });

  it('on SIGTERM finishes the mail it is sending and hands back the rest of its batch at once', async () => {
    const smtp = await sink();
    smtp.delayMs = 1500;
    const { ctx, tenant } = await setup(smtp.port);
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: Array.from({ length: 8 }, (_, i) => `s${i}@example.org`) }) });
    // A lease long enough that, were it not handed back, nothing could be sent again in this test.
    const env = { ...ctx.cliEnv, SMTP_URL: smtp.url, SEALPOST_OUTBOX_LEASE_SECONDS: '600', SEALPOST_OUTBOX_CONCURRENCY: '1' };

    const first = startCli(['worker'], env);
    // The second mail is in its SMTP session (the sink holds each for 1.5 s) when the signal comes.
    const start = Date.now();
    while (smtp.started < 2 && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 20));
    const stopped = Date.now();
    await stopChild(first, 'SIGTERM');
    expect(Date.now() - stopped).toBeLessThan(10_000);
    const afterStop = await ctx.db.selectFrom('outbox').select(['status', 'lease_owner', 'smtp_message_id']).execute();
    const sent = afterStop.filter((r) => r.status === 'sent');
    expect(sent.length).toBe(2);
    expect(smtp.mails.length).toBe(2);
    // Every other row is due again now, not when its ten-minute lease would have run out.
    expect(afterStop.filter((r) => r.status === 'queued').every((r) => r.lease_owner === null)).toBe(true);

    smtp.delayMs = 0;
    const second = startCli(['worker'], env);
    cleanups.push(() => stopChild(second));
    await smtp.waitFor(afterStop.length, 30_000);
    const ids = smtp.mails.map((m) => m.parsed.messageId);
    expect(new Set(ids).size).toBe(afterStop.length);
    expect(ids.length).toBe(afterStop.length);
  });

  it('the worker command refuses a bad configuration, naming the variable', () => {
    const r = runCli(['worker'], { SMTP_URL: 'http://not-smtp', SEALPOST_DATA_DIR: '/tmp/sealpost-never' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SMTP_URL');
  });
});

// What a recipient's mail client sees: message.html's envelope and token, and the wrapper's link.
function readWrapper(mail: TReceivedMail) {
  const html = mail.parsed.attachments.find((a) => a.filename === 'message.html')?.content.toString('utf8') ?? '';
  const rt = /name="rt" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const envelope = /name="envelope" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const link = /href="([^"]+\/r\/[^"]+)"/.exec(String(mail.parsed.html))?.[1] ?? null;
  return { rt, envelope, link, messageId: `<${String(mail.parsed.messageId).replace(/^<|>$/g, '')}>` };
}

// Runs the worker until nothing is due.
async function drain(ctx: TTestContext, transport: TMailTransport, now = Date.now()) {
  const total = { sent: 0, bounced: 0, cancelled: 0, retried: 0 };
  for (;;) {
    const r = await processOutboxBatch({ ctx, transport, now, limit: 100 });
    total.sent += r.sent;
    total.bounced += r.bounced;
    total.cancelled += r.cancelled;
    total.retried += r.retried;
    if (r.claimed === 0) return total;
  }
}

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `reader${i}@example.org`);
const count = async (ctx: TTestContext, table: 'messages' | 'recipients' | 'outbox' | 'audit_events' | 'pending_envelopes') =>
  Number(
    (
      await ctx.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst()
    )?.n ?? 0,
  );

describe('recipient fan-out', () => {
  it('refuses a message with 501 distinct recipients with 422 naming the limit, and stores nothing', async () => {
    const { ctx, tenant } = await setup(await freePort());
    // Duplicates do not count: 501 distinct addresses, some of them twice (To and Cc).
    const to = addresses(501);
    const raw = Buffer.from(
      sampleEml({ to })
        .toString()
        .replace('Subject:', `Cc: ${to.slice(0, 20).join(', ')}\r\nSubject:`),
    );
    const error = await sendMessage({ ctx, tenant, raw }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'UNPROCESSABLE', status: 422 });
    expect((error as Error).message).toMatch(/501 recipients; at most 500/);
    for (const table of ['messages', 'recipients', 'outbox', 'audit_events', 'pending_envelopes'] as const)
      expect(await count(ctx, table)).toBe(0);
    // The limit is the operator's, within bounds.
    expect(parseConfig({ SEALPOST_MAX_RECIPIENTS: '20' }).SEALPOST_MAX_RECIPIENTS).toBe(20);
    expect(() => parseConfig({ SEALPOST_MAX_RECIPIENTS: '0' })).toThrow(/SEALPOST_MAX_RECIPIENTS/);
  });

  it('accepts exactly 500 recipients and delivers each one wrapper, built at delivery, that opens for them', async () => {
    const smtp = await sink();
    const { ctx, tenant, transport } = await setup(smtp.port);
    const to = addresses(500);
    const raw = Buffer.from(
      sampleEml({ to })
        .toString()
        .replace('Subject:', `Cc: ${to.slice(0, 5).join(', ')}\r\nSubject:`),
    );
    const sent = await sendMessage({ ctx, tenant, raw });
    expect(sent.recipients).toHaveLength(500);
    // The envelope is stored once; each queued wrapper holds only a small sealed payload.
    const message = (await ctx.db.selectFrom('messages').selectAll().where('id', '=', sent.messageId).executeTakeFirst())!;
    expect(message.envelope).not.toBeNull();
    const rows = await ctx.db.selectFrom('outbox').select(['payload', 'recipient_id']).execute();
    expect(rows).toHaveLength(500);
    for (const row of rows) {
      expect(row.recipient_id).not.toBeNull();
      expect(row.payload!.length).toBeLessThan(512);
    }

    expect((await drain(ctx, transport)).sent).toBe(500);
    await smtp.waitFor(500, 60_000);
    expect(smtp.mails).toHaveLength(500);
    expect(smtp.mails.map((m) => m.rcptTo[0]).sort()).toEqual([...to].sort());
    const recipients = await ctx.db.selectFrom('recipients').select(['id', 'address']).where('message_id', '=', sent.messageId).execute();
    for (const mail of smtp.mails) {
      expect(mail.rcptTo).toHaveLength(1);
      expect(mail.parsed.subject).toBe('Your statement');
      const w = readWrapper(mail);
      expect(w.link).toBe(`http://${tenant.slug}.localhost:3000/r/${w.rt}`);
      // message.html opens, through the portal's own check, for exactly this recipient.
      const token = await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: w.rt });
      const claims = await acceptPostedEnvelope({ ctx, tenant, envelope: w.envelope, claims: token });
      expect(claims).toEqual({
        messageId: sent.messageId,
        recipientId: recipients.find((r) => r.address === mail.rcptTo[0])!.id,
        address: mail.rcptTo[0],
      });
    }
    const statuses = await ctx.db.selectFrom('outbox').select(['status', 'payload']).execute();
    expect(statuses.every((r) => r.status === 'sent' && r.payload === null)).toBe(true);
    // 500 SMTP sessions, one after another, each ~0.1–0.2 s on loopback.
  }, 600_000);

  it('a wrapper queued whole, as before wrappers were streamed at delivery, still delivers and opens', async () => {
    const smtp = await sink();
    const { ctx, tenant, transport } = await setup(smtp.port);
    // Built whole and stored sealed in its outbox row, the way rows queued by earlier versions are.
    const sent = await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }), deliver: false });
    const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
    for await (const w of sent.wrappers) {
      await enqueueMail(ctx.db, {
        tenantKey,
        mail: {
          id: w.outboxId,
          tenantId: tenant.id,
          messageId: sent.messageId,
          kind: 'wrapper',
          mailFrom: 'alice@acme.example',
          rcptTo: w.recipient,
          smtpMessageId: w.smtpMessageId,
          raw: w.raw,
        },
      });
    }
    const row = (await ctx.db.selectFrom('outbox').selectAll().executeTakeFirst())!;
    expect(row.recipient_id).toBeNull();
    expect(row.payload!.length).toBeGreaterThan(1024);
    expect((await drain(ctx, transport)).sent).toBe(1);
    const [mail] = await smtp.waitFor(1);
    expect(mail!.rcptTo).toEqual(['bob@gmail.com']);
    expect(mail!.parsed.messageId).toBe(row.smtp_message_id);
    const w = readWrapper(mail!);
    const token = await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: w.rt });
    expect((await acceptPostedEnvelope({ ctx, tenant, envelope: w.envelope, claims: token })).messageId).toBe(sent.messageId);
  });

  it("an attachment-only tenant's envelope is held only until its last wrapper is delivered or bounced", async () => {
    const smtp = await sink();
    const { ctx, tenant, transport } = await setup(smtp.port);
    await setBranding({ db: ctx.db, tenantId: tenant.id, input: { delivery: { link: false, attachment: true } } });
    const pending = async (messageId: string) =>
      ctx.db.selectFrom('pending_envelopes').select('envelope').where('message_id', '=', messageId).executeTakeFirst();
    const envelopeOf = async (messageId: string) =>
      (await ctx.db.selectFrom('messages').select('envelope').where('id', '=', messageId).executeTakeFirst())!.envelope;
    const t0 = Date.now();

    const delivered = await sendMessage({ ctx, tenant, raw: sampleEml({ to: addresses(3) }), now: t0 });
    const held = (await pending(delivered.messageId))!.envelope;
    expect(await envelopeOf(delivered.messageId)).toBeNull();
    expect(await processOutboxBatch({ ctx, transport, now: t0, limit: 2 })).toMatchObject({ sent: 2 });
    expect(await pending(delivered.messageId)).toBeDefined();
    expect(await processOutboxBatch({ ctx, transport, now: t0, limit: 2 })).toMatchObject({ sent: 1 });
    expect(await pending(delivered.messageId)).toBeUndefined();
    expect(await envelopeOf(delivered.messageId)).toBeNull();
    await smtp.waitFor(3);
    for (const mail of smtp.mails) {
      const w = readWrapper(mail);
      expect(w.link).toBeNull();
      expect(w.envelope).toBe(held);
    }

    // The last wrapper bouncing for good releases it too.
    const bounced = await sendMessage({ ctx, tenant, raw: sampleEml({ to: addresses(2) }), now: t0 });
    expect(await processOutboxBatch({ ctx, transport, now: t0, limit: 1 })).toMatchObject({ sent: 1 });
    expect(await pending(bounced.messageId)).toBeDefined();
    smtp.failWith = 550;
    expect(await processOutboxBatch({ ctx, transport, now: t0, limit: 1 })).toMatchObject({ bounced: 1 });
    expect(await pending(bounced.messageId)).toBeUndefined();
    expect(await envelopeOf(bounced.messageId)).toBeNull();
    expect(await count(ctx, 'pending_envelopes')).toBe(0);
  });

  it("never sends a revoked message's undelivered wrappers, even those a worker had already claimed", async () => {
    const smtp = await sink();
    const { ctx, tenant, transport } = await setup(smtp.port);
    const t0 = Date.now();
    const first = await sendMessage({ ctx, tenant, raw: sampleEml({ to: addresses(3) }), now: t0 });
    expect(await processOutboxBatch({ ctx, transport, now: t0, limit: 1 })).toMatchObject({ sent: 1 });
    await revokeMessage({ db: ctx.db, messageId: first.messageId, now: t0 + 1 });

    // Revoked while another worker held its wrappers: that worker's lease runs out, and whoever
    // picks them up next finds the message revoked and builds nothing.
    const second = await sendMessage({ ctx, tenant, raw: sampleEml({ to: addresses(2) }), now: t0 });
    const claimed = await claimDueMail(ctx.db, { owner: 'crashed-worker', now: t0 + 2, leaseMs: 1_000, limit: 10 });
    expect(claimed.map((r) => r.message_id)).toEqual([second.messageId, second.messageId]);
    await revokeMessage({ db: ctx.db, messageId: second.messageId, now: t0 + 3 });
    expect(await drain(ctx, transport, t0 + 5_000)).toMatchObject({ sent: 0, cancelled: 2 });

    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.mails).toHaveLength(1);
    const rows = await ctx.db
      .selectFrom('outbox')
      .select(['message_id', 'status', 'payload', 'last_error'])
      .where('status', '!=', 'sent')
      .execute();
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatchObject({ status: 'cancelled', payload: null, last_error: expect.stringMatching(/revoked/) });
    expect(await ctx.db.selectFrom('audit_events').select('id').where('type', '=', 'bounced').execute()).toHaveLength(0);
  });

  it('keeps a wrapper’s Message-ID when it is built again for a retry after a temporary failure', async () => {
    const smtp = await sink();
    const { ctx, tenant, transport } = await setup(smtp.port);
    const t0 = Date.now();
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }), now: t0 });
    const queued = (await ctx.db.selectFrom('outbox').select('smtp_message_id').executeTakeFirst())!.smtp_message_id;
    smtp.failWith = 451;
    expect(await processOutboxBatch({ ctx, transport, now: t0 })).toMatchObject({ retried: 1 });
    smtp.failWith = null;
    expect(await processOutboxBatch({ ctx, transport, now: t0 + 10 * 60_000 })).toMatchObject({ sent: 1 });
    await smtp.waitFor(1);
    expect(readWrapper(smtp.mails[0]!).messageId).toBe(queued);
    expect(await ctx.db.selectFrom('outbox').select(['smtp_message_id', 'attempts', 'status']).executeTakeFirst()).toEqual({
      smtp_message_id: queued,
      attempts: 1,
      status: 'sent',
    });
  });
});
