import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxEnvelopeChars } from '@/lib/envelope/envelope';
import { openMessage } from '@/lib/envelope/open-message';
import { isAppError } from '@/lib/errors';
import { normaliseAddress } from '@/lib/mail/address';
import { splitHeaderFields } from '@/lib/mail/header-fields';
import { processOutboxBatch } from '@/lib/mail/outbox-worker';
import { createMailTransport, type TMailTransport } from '@/lib/mail/transport';
import { sendMessage } from '@/lib/messages/send-message';
import { getMessage } from '@/lib/store/messages';
import type { TTenant } from '@/lib/tenants/tenants';
import { HOSTILE, isRefusal, LEGITIMATE, rowMessage, type TAddressRow } from './helpers/address-table';
import { createTestContext, seedTenant, type TTestContext } from './helpers/context';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';
import { readStoredEnvelope } from './helpers/stored-envelope';

let ctx: TTestContext;
let tenant: TTenant;
let sink: TSmtpSink;
let transport: TMailTransport;

beforeAll(async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext({ SMTP_URL: sink.url });
  tenant = await seedTenant(ctx);
  transport = createMailTransport({ smtpUrl: ctx.config.SMTP_URL, dataDir: ctx.dataDir });
});
afterAll(async () => {
  transport?.close();
  await ctx?.close();
  await sink?.close();
});

const stored = async () => {
  const count = async (table: 'messages' | 'recipients' | 'outbox') =>
    Number(
      (
        await ctx.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { messages: await count('messages'), recipients: await count('recipients'), outbox: await count('outbox') };
};

// Delivers everything queued with the real worker and returns the RCPT TO of what the sink got.
async function deliver(): Promise<string[]> {
  const before = sink.mails.length;
  for (;;) {
    const batch = await processOutboxBatch({ ctx, transport });
    expect(batch.failed + batch.bounced + batch.retried).toBe(0);
    if (!batch.claimed) break;
  }
  // smtp-server hands a punycode domain back in Unicode; compare the canonical (ASCII) form.
  return sink.mails
    .slice(before)
    .flatMap((m) => m.rcptTo)
    .map((a) => normaliseAddress(a) ?? a);
}

async function sendRow(row: TAddressRow) {
  const before = await stored();
  const sent = await sendMessage({ ctx, tenant, raw: rowMessage(row) }).catch((e: unknown) => e);
  const rcptTo = await deliver();
  if (isRefusal(row.expected) || row.expected.length === 0) {
    expect(isAppError(sent), `expected a refusal, got ${JSON.stringify(sent)}`).toBe(true);
    if (!isAppError(sent)) return;
    if (isRefusal(row.expected) && row.expected.refuse !== 400) {
      expect(sent.code).toBe('INVALID_RECIPIENTS');
      expect(sent.details).toEqual({ field: row.expected.refuse });
    } else if (isRefusal(row.expected)) {
      expect(sent.status).toBe(400);
    } else {
      expect(sent.code).toBe('NO_VALID_RECIPIENT');
    }
    // Refused whole: nothing reaches the SMTP server and nothing is stored.
    expect(rcptTo).toEqual([]);
    expect(await stored()).toEqual(before);
    return;
  }
  if (isAppError(sent) || !sent || typeof sent !== 'object') throw sent;
  const { messageId, recipients, rejected } = sent as Awaited<ReturnType<typeof sendMessage>>;
  // What Sealpost reports is exactly what it delivered to, and exactly what the row expects.
  expect(recipients).toEqual(row.expected);
  expect(rejected).toEqual([]);
  expect([...rcptTo].sort()).toEqual([...recipients].sort());
  if (row.bcc) {
    const message = await getMessage(ctx.db, messageId);
    const opened = await openMessage({
      db: ctx.db,
      master: ctx.master,
      tenantId: tenant.id,
      token: await readStoredEnvelope(ctx.db, message!.id),
      maxChars: maxEnvelopeChars(25 * 1024 * 1024),
    });
    const mime = Buffer.from(opened.mime);
    const headerBlock = mime.subarray(0, mime.indexOf('\r\n\r\n'));
    expect(splitHeaderFields({ headerBlock }).map((f) => f.key)).not.toContain('bcc');
    expect(headerBlock.toString('utf8')).not.toMatch(/^\s*bcc\s*:/im);
    expect(mime.toString('utf8')).not.toContain(row.bcc);
    expect(rcptTo).toContain(row.bcc);
  }
}

describe(`hostile address lists delivered through the real worker (${HOSTILE.length} rows)`, () => {
  it.each(HOSTILE.map((r) => [r.name, r] as const))('%s', async (_name, row) => sendRow(row));
});

describe(`legitimate address lists delivered through the real worker (${LEGITIMATE.length} rows)`, () => {
  it.each(LEGITIMATE.map((r) => [r.name, r] as const))('%s', async (_name, row) => sendRow(row));
});
