import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';
import { simpleParser } from 'mailparser';
import { authenticate } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDkimKey } from '@/lib/dkim/create-dkim-key';
import type { TTenant } from '@/lib/tenants/tenants';
import { runCliAsync, startCli, stopChild } from './helpers/cli';
import { createTestContext, makeTempDir, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { tenantZone, zoneResolver } from './helpers/dns-records';
import { startDigestSink, type TDigestSink } from './helpers/smtp-sink';
import { readStoredEnvelope } from './helpers/stored-envelope';

const MiB = 1024 * 1024;
const MESSAGE_BYTES = 25 * MiB;
const RECIPIENTS = 10;
const REPORT_PEAK = path.join(import.meta.dirname, 'helpers', 'report-peak-rss.mjs');
const LARGE_OPEN_CHILD = path.join(import.meta.dirname, 'helpers', 'large-open-child.ts');

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
  it('a 25 MB message to 10 recipients through `sealpost send` and `sealpost worker`: nine more recipients cost the worker less than two copies of the message between them, and every wrapper carries the one envelope, DKIM-signed', async () => {
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
    const stored = await readStoredEnvelope(ctx.db, sent.json.messageId);
    // The message's one envelope is what each message.html carries, whole: the first in full ...
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

    // Nine more recipients cost less than two copies of the message between them, where holding
    // even one more 45 MB wrapper would not fit: the worker holds no envelope at all (only its
    // 200-byte frame); each reading of a wrapper (DKIM, then the SMTP session) streams
    // message.html from the stored rows, 768 KiB at a time. Measured for nine more: +4 to +13 MB
    // with the machine otherwise idle, +30 MB in the full suite on a 2-core machine (V8 collects
    // the streams' garbage later when other processes take the cores).
    expect(workerPeakKb - workerOneKb).toBeLessThan((2 * MESSAGE_BYTES) / 1024);
    // What the worker adds above its baseline is the garbage of streaming two passes over a
    // 45 MB mail before V8 collects it. Measured alone: +86 to +90 MB (3.4x to 3.6x) since
    // message.html is base64-encoded as whole lines from the envelope's text (lib/mail/
    // base64-lines.ts); +106 to +131 MB before, through nodemailer's encoder, and +152 to +164 MB
    // then in the full suite on a 2-core machine. About the same for one recipient as for ten; ten
    // copies of the wrapper would be 450 MB, and four more copies of it held would not fit.
    expect(workerPeakKb - workerBaselineKb).toBeLessThan((7 * MESSAGE_BYTES) / 1024);
    // Sending holds the message (1x) and seals it a row at a time into the database: +67 to
    // +81 MB measured (2.7x to 3.2x; before parts +174 to +210 MB, the token held whole).
    expect(sendPeakKb - sendBaselineKb).toBeLessThan((5 * MESSAGE_BYTES) / 1024);
    await stopChild(worker);
  }, 240_000);

  it('a 150 MB message is sealed, opened and its attachment downloaded (streamed) within a fixed bound: no more than a 50 MB message needs', async () => {
    const growth = (r: { baselineKb: number; peakKb: number }) => (r.peakKb - r.baselineKb) * 1024;
    const figures: Record<number, { bytes: number; seal: number; open: number; download: number }> = {};
    for (const mib of [50, 150]) {
      const dataDir = makeTempDir('sealpost-large-');
      try {
        const sealed = await runPhase('seal', dataDir, mib);
        const opened = await runPhase('open', dataDir, mib);
        const downloaded = await runPhase('download', dataDir, mib);
        // The attachment arrives whole and unchanged, and the view lists it at its size.
        expect(opened.result).toEqual({ attachments: 1, size: downloaded.result.size });
        expect(downloaded.result.filename).toBe('archive.bin');
        expect(downloaded.result.sha256).toBe(sealed.sha256);
        figures[mib] = { bytes: sealed.bytes, seal: growth(sealed), open: growth(opened), download: growth(downloaded) };
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }
    const line = (f: (typeof figures)[number]) =>
      `seal +${(f.seal / MiB).toFixed(0)} MB, open (message view) +${(f.open / MiB).toFixed(0)} MB, download +${(f.download / MiB).toFixed(0)} MB`;
    console.log(
      `above each process's baseline: ${(figures[50]!.bytes / MiB).toFixed(0)} MiB message: ${line(figures[50]!)}; ` +
        `${(figures[150]!.bytes / MiB).toFixed(0)} MiB message: ${line(figures[150]!)}`,
    );
    // Opening and downloading read the envelope a 768 KiB row at a time and hold neither its
    // ciphertext nor its plaintext: what they add is a constant (the streaming's garbage until V8
    // collects it, +115 to +140 MB measured at either size), not a share of the message. Three
    // times the message would not grow them by more than this margin.
    for (const phase of ['open', 'download'] as const) {
      expect(figures[150]![phase]).toBeLessThan(figures[50]![phase] + 48 * MiB);
      expect(figures[150]![phase]).toBeLessThan(192 * MiB);
    }
    // Sealing holds the message it was handed (1x) and writes the envelope a row at a time as it
    // is sealed: +111 MB for 50 MB, +204 MB for 150 MB measured.
    expect(figures[150]!.seal).toBeLessThan(figures[150]!.bytes + 96 * MiB);
  }, 360_000);
});
