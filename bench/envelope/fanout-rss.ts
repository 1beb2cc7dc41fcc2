// Recipient fan-out memory: `node --expose-gc --import tsx bench/envelope/fanout-rss.ts [MiB] [recipients]`.
//
// Sends one message (5 MiB by default) to 1, 25 and 100 recipients, each in a fresh child process
// on its own SQLite database, and samples RSS while sendMessage runs and while the outbox worker
// delivers every wrapper (to a transport that accepts and drops each mail). The same run also
// measures the way Sealpost used to send (every recipient's wrapper built in memory and stored
// sealed in the outbox before the transaction), so the figures compare on one machine, at one load.
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TEMPLATE } from '../../lib/templates/schema';
import { parseConfig } from '../../lib/env';
import { wrapContentKey } from '../../lib/envelope/content-key';
import { sealEnvelope } from '../../lib/envelope/envelope';
import { getTenantKey } from '../../lib/envelope/tenant-keys';
import { enqueueMail } from '../../lib/mail/outbox';
import { processOutboxBatch } from '../../lib/mail/outbox-worker';
import { parseOutgoingMessage } from '../../lib/mail/parse-message';
import type { TMailTransport } from '../../lib/mail/transport';
import { buildRecipientWrapper, type TRecipientWrapper } from '../../lib/messages/build-recipient-wrapper';
import { sendMessage } from '../../lib/messages/send-message';
import { createContext, type TContext } from '../../lib/server/context';
import { insertMessage } from '../../lib/store/messages';
import { createTenant, type TTenant } from '../../lib/tenants/tenants';
import { getBranding } from '../../lib/templates/get-branding';
import { MiB, makeMime, requireGc } from './fixtures';
import { startSampler } from './open-rss';

const CHILD_MODE = 'fanout-child';
type TStrategy = 'at-delivery' | 'all-in-memory';
type TChildResult = {
  strategy: TStrategy;
  recipients: number;
  bytes: number;
  baselineRss: number;
  sendPeakAbove: number;
  deliverPeakAbove: number;
  sendMs: number;
  deliverMs: number;
  delivered: number;
};

// Accepts every mail and keeps none: what is measured is Sealpost's side of delivery.
const dropTransport: TMailTransport = {
  kind: 'smtp',
  async send({ to }) {
    return { accepted: [to], rejected: [], envelopeTo: [to], response: '250 dropped' };
  },
  close() {},
};

const messageTo = (bytes: number, recipients: number) => {
  const to = Array.from({ length: recipients }, (_, i) => `reader${i}@example.net`).join(', ');
  return Buffer.from(makeMime(bytes).toString('latin1').replace('To: Bob <bob@example.org>', `To: ${to}`), 'latin1');
};

// How Sealpost sent before wrappers were built at delivery: every wrapper (each with the whole
// envelope in message.html) built first, then each stored sealed in the outbox.
async function sendAllInMemory(ctx: TContext, tenant: TTenant, raw: Buffer) {
  const parsed = await parseOutgoingMessage({ raw, maxBytes: ctx.config.SEALPOST_MAX_MESSAGE_BYTES });
  const branding = await getBranding(ctx.db, tenant.id);
  const messageId = crypto.randomUUID();
  const contentKey = crypto.randomBytes(32);
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const envelope = await sealEnvelope({ mime: parsed.mime, messageId, tenantId: tenant.id, contentKey, expiresAt: null });
  const wrappedCek = wrapContentKey({ tenantKey, tenantId: tenant.id, messageId, contentKey });
  const now = Date.now();
  const recipients = parsed.recipients.map((r) => ({ id: crypto.randomUUID(), message_id: messageId, address: r.address, kind: r.kind }));
  const wrappers: TRecipientWrapper[] = [];
  for (const recipient of recipients)
    wrappers.push(await buildRecipientWrapper({ ctx, tenant, branding, recipient, envelope, sender: parsed, expiresAt: null, now }));
  await ctx.db.transaction().execute(async (trx) => {
    await insertMessage(
      trx,
      {
        id: messageId,
        tenant_id: tenant.id,
        sender: parsed.sender,
        key_version: tenantKey.version,
        wrapped_cek: wrappedCek,
        envelope,
        size_bytes: parsed.mime.length,
        template: DEFAULT_TEMPLATE,
        restrictions: 'none',
        idempotency_key: null,
        request_hash: null,
        created_at: now,
        expires_at: null,
        revoked_at: null,
        shredded_at: null,
        in_reply_to: null,
        thread_id: null,
        bounce_notified_at: null,
        subject_sealed: null,
      },
      recipients,
    );
    for (const w of wrappers) {
      await enqueueMail(trx, {
        tenantKey,
        now,
        mail: {
          id: w.outboxId,
          tenantId: tenant.id,
          messageId,
          kind: 'wrapper',
          mailFrom: parsed.sender,
          rcptTo: w.recipient,
          smtpMessageId: w.smtpMessageId,
          raw: w.raw,
        },
      });
    }
  });
}

async function child(strategy: TStrategy, recipients: number, bytes: number): Promise<TChildResult> {
  const gc = requireGc();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-fanout-'));
  try {
    const config = parseConfig({
      SEALPOST_DATA_DIR: dataDir,
      SEALPOST_DEMO_TENANT: 'off',
      LOG_LEVEL: 'silent',
      SEALPOST_MAX_MESSAGE_BYTES: String(bytes * 2),
    });
    const ctx = await createContext({ config });
    const tenant = await createTenant({ db: ctx.db, master: ctx.master, slug: 'bench', name: 'Bench', mailDomain: 'example.org' });
    const send = (raw: Buffer) => (strategy === 'at-delivery' ? sendMessage({ ctx, tenant, raw }) : sendAllInMemory(ctx, tenant, raw));
    const drain = async () => {
      let delivered = 0;
      for (;;) {
        const r = await processOutboxBatch({ ctx, transport: dropTransport, limit: 20 });
        delivered += r.sent;
        if (!r.claimed) return delivered;
      }
    };
    // Warm up every code path on a small message, so module loading and JIT are not measured.
    await send(messageTo(64 * 1024, 2));
    await drain();

    const raw = messageTo(bytes, recipients);
    const sampler = startSampler();
    const settle = async () => {
      gc();
      await sleep(50);
      gc();
      await sleep(50);
    };
    await settle();
    const baselineRss = process.memoryUsage.rss();
    await sampler.reset();
    let start = performance.now();
    await send(raw);
    const sendMs = performance.now() - start;
    const sendPeak = Math.max((await sampler.stop()).peak, process.memoryUsage.rss());

    const deliverSampler = startSampler();
    await settle();
    const deliverBaseline = process.memoryUsage.rss();
    await deliverSampler.reset();
    start = performance.now();
    const delivered = await drain();
    const deliverMs = performance.now() - start;
    const deliverPeak = Math.max((await deliverSampler.stop()).peak, process.memoryUsage.rss());
    await ctx.db.destroy();
    return {
      strategy,
      recipients,
      bytes,
      baselineRss,
      sendPeakAbove: sendPeak - baselineRss,
      deliverPeakAbove: deliverPeak - deliverBaseline,
      sendMs,
      deliverMs,
      delivered,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function runChild(args: string[]): Promise<TChildResult> {
  const scriptPath = fileURLToPath(import.meta.url);
  const execArgv = process.execArgv.includes('--expose-gc') ? process.execArgv : ['--expose-gc', ...process.execArgv];
  const proc = spawn(process.execPath, [...execArgv, scriptPath, CHILD_MODE, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"strategy"'));
      if (code === 0 && line) resolve(JSON.parse(line) as TChildResult);
      else reject(new Error(`child exited with ${code}`));
    });
  });
}

async function main() {
  const bytes = Math.round(Number(process.argv[2] ?? 5) * MiB);
  const many = Number(process.argv[3] ?? 100);
  const mib = (n: number) => `${(n / MiB).toFixed(1).padStart(7)} MiB`;
  console.log(
    `Sealpost fan-out memory: a ${(bytes / MiB).toFixed(1)} MiB message to 1 and to ${many} recipients; node ${process.version}, ${os.availableParallelism()} CPUs`,
  );
  console.log('Peak RSS above the settled baseline, each run in a fresh process.\n');
  const results: TChildResult[] = [];
  const quarter = Math.max(2, Math.round(many / 4));
  for (const strategy of ['at-delivery', 'all-in-memory'] as const) {
    // A middle point for the new way: the worker's peak levels off (garbage awaiting V8's next
    // collection), it does not climb with each recipient.
    for (const recipients of strategy === 'at-delivery' ? [1, quarter, many] : [1, many]) {
      const r = await runChild([strategy, String(recipients), String(bytes)]);
      results.push(r);
      console.log(
        `${strategy.padEnd(14)} ${String(recipients).padStart(4)} recipients   send ${mib(r.sendPeakAbove)} (${r.sendMs.toFixed(0)} ms)   deliver ${mib(r.deliverPeakAbove)} (${r.deliverMs.toFixed(0)} ms, ${r.delivered} mails)`,
      );
    }
  }
  const find = (s: TStrategy, n: number) => results.find((r) => r.strategy === s && r.recipients === n)!;
  const growth = (s: TStrategy) => find(s, many).sendPeakAbove / Math.max(find(s, 1).sendPeakAbove, 1);
  const perRecipient = (s: TStrategy) => (find(s, many).sendPeakAbove - find(s, 1).sendPeakAbove) / (many - 1);
  console.log('');
  console.log(
    `send peak, ${many} vs 1 recipient:  at delivery ${growth('at-delivery').toFixed(2)}x   all in memory ${growth('all-in-memory').toFixed(2)}x`,
  );
  console.log(
    `send peak per extra recipient:     at delivery ${mib(perRecipient('at-delivery'))}   all in memory ${mib(perRecipient('all-in-memory'))}`,
  );
  console.log(
    `send peak at ${many} recipients:      at delivery = ${(find('at-delivery', many).sendPeakAbove / bytes).toFixed(2)}x message size   all in memory = ${(find('all-in-memory', many).sendPeakAbove / bytes).toFixed(2)}x`,
  );
  // (The all-in-memory deliver figure starts from the heap its send left behind: not comparable.)
  console.log(
    `deliver peak (one wrapper built at a time): ${[1, quarter, many].map((n) => `${n}: ${mib(find('at-delivery', n).deliverPeakAbove).trim()}`).join('   ')}`,
  );
  console.log(JSON.stringify({ bytes, many, results }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === CHILD_MODE) {
  console.log(JSON.stringify(await child(args[0] as TStrategy, Number(args[1]), Number(args[2]))));
} else {
  await main();
}
