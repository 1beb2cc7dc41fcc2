import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxEnvelopeChars } from '@/lib/envelope/envelope';
import { openMessage } from '@/lib/envelope/open-message';
import { isAppError } from '@/lib/errors';
import { addressDomain } from '@/lib/mail/address';
import { parseOutgoingMessage } from '@/lib/mail/parse-message';
import { sendMessage } from '@/lib/messages/send-message';
import { toMessageView } from '@/lib/messages/to-message-view';
import { getMessage } from '@/lib/store/messages';
import { createTestContext, seedTenant, type TTestContext } from './helpers/context';
import { readStoredEnvelope } from './helpers/stored-envelope';

const dir = new URL('./corpora/mime/mailparser-fixtures/', import.meta.url);
const fixtures = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.eml'))
  .sort();
const MAX_BYTES = 25 * 1024 * 1024;
// Bounds for one fixture, denial-of-service samples included: generous for a slow CI machine,
// far below what an unbounded parse of htmllargecallstack or outofmemory takes.
const TIME_BOUND_MS = 5_000;
const HEAP_BOUND_BYTES = 150 * 1024 * 1024;

let ctx: TTestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx?.close());

describe(`mailparser fixtures (${fixtures.length} files)`, () => {
  it('has fixtures to try', () => expect(fixtures.length).toBeGreaterThanOrEqual(10));

  it.each(fixtures)('%s is sealed, opens byte for byte and renders, or is refused with a clear error, within bounds', async (file) => {
    const raw = fs.readFileSync(path.join(dir.pathname, file));
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    let outcome: 'sealed' | 'refused';
    try {
      const parsed = await parseOutgoingMessage({ raw, maxBytes: MAX_BYTES });
      // Seal it as a tenant whose domain is the sender's, as that organisation's relay would.
      // (One tenant per domain: fixtures from the same domain share it.)
      const domain = addressDomain(parsed.sender).toLowerCase();
      const tenant =
        (await ctx.db.selectFrom('tenants').selectAll().where('mail_domain', '=', domain).executeTakeFirst()) ??
        (await seedTenant(ctx, { mailDomain: domain }));
      const sent = await sendMessage({ ctx, tenant, raw, deliver: false });
      const row = await getMessage(ctx.db, sent.messageId);
      const opened = await openMessage({
        db: ctx.db,
        master: ctx.master,
        tenantId: tenant.id,
        token: await readStoredEnvelope(ctx.db, row!.id),
        maxChars: maxEnvelopeChars(MAX_BYTES),
      });
      expect(Buffer.from(opened.mime).equals(parsed.mime)).toBe(true);
      // And what a reader would be shown of it: parsed and sanitised within the same bounds.
      const view = await toMessageView({ mime: opened.mime, attachmentUrl: (i) => `/attachments/${i}` });
      expect(view.html === null || !/<script/i.test(view.html)).toBe(true);
      outcome = 'sealed';
    } catch (error) {
      expect(isAppError(error), `${file}: ${String(error)}`).toBe(true);
      if (!isAppError(error)) throw error;
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.status).toBeLessThan(500);
      expect(error.message.length).toBeGreaterThan(10);
      outcome = 'refused';
    }
    const elapsed = performance.now() - started;
    expect(elapsed, `${file} took ${elapsed.toFixed(0)} ms`).toBeLessThan(TIME_BOUND_MS);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(HEAP_BOUND_BYTES);
    expect(['sealed', 'refused']).toContain(outcome);
  });
});
