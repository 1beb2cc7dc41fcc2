import { afterEach, describe, expect, it } from 'vitest';
import { GIVE_UP_AFTER_MS } from '@/lib/mail/outbox';
import { processOutboxBatch } from '@/lib/mail/outbox-worker';
import { createMailTransport } from '@/lib/mail/transport';
import { sendMessage } from '@/lib/messages/send-message';
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

const statuses = async (ctx: TTestContext) => (await ctx.db.selectFrom('outbox').select(['status', 'payload', 'attempts', 'next_attempt_at']).execute());

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
    await stopChild(second);
    const rows = await ctx.db.selectFrom('outbox').select('status').execute();
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });

  it('the worker command refuses a bad configuration, naming the variable', () => {
    const r = runCli(['worker'], { SMTP_URL: 'http://not-smtp', SEALPOST_DATA_DIR: '/tmp/sealpost-never' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SMTP_URL');
  });
});
