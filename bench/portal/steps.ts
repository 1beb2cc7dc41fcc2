import { simpleParser } from 'mailparser';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { recordAudit } from '../../lib/audit/record-audit';
import { readRecipientSession } from '../../lib/auth/recipient-session';
import { parseConfig } from '../../lib/env';
import { maxEnvelopeChars } from '../../lib/envelope/envelope';
import { envelopeString } from '../../lib/envelope/envelope-stream';
import { openMessage } from '../../lib/envelope/open-message';
import { sanitiseMessageHtml } from '../../lib/messages/sanitise-html';
import { readReaderView } from '../../lib/portal/read-reader-view';
import { toMessageView } from '../../lib/messages/to-message-view';
import { findEnvelope } from '../../lib/portal/accept-posted-envelope';
import { createContext } from '../../lib/server/context';
import { getMessage } from '../../lib/store/messages';
import { getTenantByHost } from '../../lib/tenants/get-tenant-by-host';
import { getBranding } from '../../lib/templates/get-branding';

const gzip = promisify(zlib.gzip);

export type TStepTiming = { step: string; meanMs: number };

export type TimeStepsOptions = { host: string; messageId: string; sessionValue: string; pageBytes: number; iterations: number };

async function time(step: string, iterations: number, op: () => Promise<unknown>): Promise<TStepTiming> {
  for (let i = 0; i < Math.min(20, iterations); i++) await op();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await op();
  return { step, meanMs: (performance.now() - start) / iterations };
}

// Where one message view's time goes: each lib step the page runs, alone, one after another on an
// idle process (no concurrency), so the costs add up to roughly one request's CPU time.
export async function timeSteps({ host, messageId, sessionValue, pageBytes, iterations }: TimeStepsOptions): Promise<TStepTiming[]> {
  const ctx = await createContext({ config: parseConfig(process.env) });
  try {
    const tenant = (await getTenantByHost({ db: ctx.db, config: ctx.config, host }))!;
    const { source } = (await findEnvelope({ ctx, message: (await getMessage(ctx.db, messageId))! }))!;
    const envelope = await envelopeString(source);
    const maxChars = maxEnvelopeChars(ctx.config.SEALPOST_MAX_MESSAGE_BYTES);
    const { mime } = await openMessage({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: envelope, maxChars });
    const parsed = await simpleParser(Buffer.from(mime), { skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true });
    const html = String(parsed.html);
    const page = Buffer.alloc(pageBytes, html);
    const session = (await readRecipientSession({ ctx, tenant, value: sessionValue }))!;
    return [
      await time('tenant by host + branding (2 queries)', iterations, async () =>
        getBranding(ctx.db, (await getTenantByHost({ db: ctx.db, config: ctx.config, host }))!.id),
      ),
      await time('session cookie decode (next-auth JWE)', iterations, () => readRecipientSession({ ctx, tenant, value: sessionValue })),
      await time('message + envelope lookup', iterations, async () =>
        findEnvelope({ ctx, message: (await getMessage(ctx.db, messageId))! }),
      ),
      await time('open envelope (query, unwrap, AES-GCM)', iterations, () =>
        openMessage({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: envelope, maxChars }),
      ),
      await time('MIME parse (mailparser)', iterations, () =>
        simpleParser(Buffer.from(mime), { skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true }),
      ),
      await time('sanitise HTML (sanitize-html)', iterations, async () =>
        sanitiseMessageHtml({ html, allowRemoteImages: false, cidUrl: () => null }),
      ),
      await time('toMessageView (parse + sanitise)', iterations, () =>
        toMessageView({ mime, attachmentUrl: (i) => `/m/${messageId}/attachments/${i}` }),
      ),
      await time('kept view (session, message, unwrap, AES-GCM)', iterations, () =>
        readReaderView({ ctx, tenant, messageId, sessionValue, allowRemoteImages: false }),
      ),
      await time('audit row (INSERT, synchronous=FULL)', iterations, () =>
        recordAudit(ctx.db, { tenantId: tenant.id, messageId, type: 'viewed', actor: session.address }),
      ),
      await time(`gzip a ${Math.round(pageBytes / 1024)} KB page (zlib default)`, iterations, () => gzip(page)),
    ];
  } finally {
    await ctx.db.destroy();
  }
}
