// Relay benchmark: `npm run bench:relay`.
//
// Messages per second through the Sealpost relay (50 KB messages, 10 parallel SMTP connections,
// AUTH on loopback) with an encrypt rule matching, and with every message passed through, against
// a plain smtp-server that only writes each message to disk, in the same run on the same machine,
// so the ratios hold where absolute rates do not. "Through the relay" is accepted: 250 after the
// message and its outbox rows are committed (the outbox worker is off while rates are measured).
// Then accepted-to-delivered latency at a steady 20 messages/s, the worker delivering to an SMTP
// sink on loopback.
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { startOutboxWorker } from '@/lib/mail/outbox-worker';
import { createRelayCredential } from '@/lib/relay/relay-credentials';
import { startRelay } from '@/lib/relay/start-relay';
import { addRule } from '@/lib/rules/add-rule';
import { createTestContext, makeTempDir, seedTenant } from '../../test/helpers/context';

const CONNECTIONS = 10;
const MESSAGES = Number(process.env.BENCH_RELAY_MESSAGES ?? 1400);
const WARMUP = 50;
const ROUNDS = Number(process.env.BENCH_RELAY_ROUNDS ?? 7);
const BODY_BYTES = 50 * 1024;
const LATENCY_RATE = 20;
const LATENCY_SECONDS = 15;
const TARGETS = { encrypt: 0.5, pass: 0.8, p99Ms: 2000 };

// A 50 KB text message; `secure` puts the keyword the encrypt rule matches in its subject.
function makeMessage(n: number, secure: boolean): Buffer {
  const line = 'The quarterly figures are attached below, with the notes from the meeting.\r\n';
  const body = line.repeat(Math.ceil(BODY_BYTES / line.length)).slice(0, BODY_BYTES);
  return Buffer.from(
    [
      `From: Alice <alice@acme.example>`,
      'To: bob@partner.example',
      `Subject: ${secure ? '[secure] ' : ''}Figures ${n}`,
      `Message-ID: <bench-${n}-${secure ? 's' : 'p'}@acme.example>`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
}

// A plain smtp-server that writes each message to its own file: the baseline. `durable` also
// fsyncs each file before answering 250, as the relay's commit does (SQLite, synchronous=FULL)
// and as Postfix does with its queue files.
async function startDiskServer(dir: string, durable: boolean) {
  let n = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (_auth, _session, callback) => callback(null, { user: 'bench' }),
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        void (async () => {
          n += 1;
          const file = await fs.promises.open(path.join(dir, `${durable ? 'd' : 'p'}${n}.eml`), 'w');
          try {
            await file.writeFile(Buffer.concat(chunks));
            if (durable) await file.sync();
          } finally {
            await file.close();
          }
        })().then(() => callback(), callback);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as { port: number }).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

// Sends `count` messages over CONNECTIONS pooled connections; messages per second.
async function measureRate(
  port: number,
  auth: { user: string; pass: string },
  count: number,
  secure: boolean,
  offset: number,
): Promise<number> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: CONNECTIONS,
    maxMessages: Infinity,
    auth,
  });
  const messages = Array.from({ length: count }, (_, i) => makeMessage(offset + i, secure));
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < messages.length) {
        const raw = messages[next++]!;
        const info = await transport.sendMail({ envelope: { from: 'alice@acme.example', to: ['bob@partner.example'] }, raw });
        if (!/^250 /.test(info.response)) throw new Error(`not accepted: ${info.response}`);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  transport.close();
  return count / seconds;
}

// The receiving server: notes when each mail (by Subject) arrived, and nothing else, so that
// parsing at the sink costs the process (shared with the relay) as little as possible.
async function startArrivalSink() {
  const arrived = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (c: Buffer) => {
        if (head.length < 4096) head += c.toString('latin1');
      });
      stream.on('end', () => {
        const subject = /^Subject: ([^\r\n]*)/m.exec(head)?.[1] ?? '';
        arrived.set(subject, Date.now());
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return { url: `smtp://127.0.0.1:${port}`, arrived, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function main() {
  const sink = await startArrivalSink();
  const ctx = await createTestContext({ SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '50', LOG_LEVEL: 'silent' });
  const tenant = await seedTenant(ctx, { mailDomain: 'acme.example' });
  const credential = await createRelayCredential({ db: ctx.db, tenant });
  await addRule({
    db: ctx.db,
    tenantId: tenant.id,
    input: {
      name: 'secure outside',
      conditions: [{ type: 'subjectContains', words: ['[secure]'] }, { type: 'recipientOutside' }],
      action: { kind: 'encrypt', removeKeyword: true },
    },
  });
  const relay = await startRelay({ ctx, port: 0, host: '127.0.0.1' });
  const diskDir = makeTempDir('sealpost-bench-disk-');
  const disk = await startDiskServer(diskDir, false);
  const durableDisk = await startDiskServer(diskDir, true);
  const auth = { user: credential.username, pass: credential.password };

  console.log(
    `relay benchmark: ${MESSAGES} messages of ${BODY_BYTES / 1024} KB per run, ${CONNECTIONS} connections, ${ctx.config.DATABASE_URL ? 'PostgreSQL' : 'SQLite'}`,
  );
  // Warm-up of each path (JIT, SQLite pages, the template).
  await measureRate(disk.port, auth, WARMUP, false, 0);
  await measureRate(durableDisk.port, auth, WARMUP, false, 0);
  await measureRate(relay.port, auth, WARMUP, true, 0);
  await measureRate(relay.port, auth, WARMUP, false, 0);
  // Alternating rounds, so drift on a shared machine falls on every path alike; each round's ratio
  // is taken against the plain server measured beside it, and the median round is reported.
  const rates = { plain: [] as number[], durable: [] as number[], encrypt: [] as number[], pass: [] as number[] };
  let offset = 1000;
  const perRound = Math.max(50, Math.round(MESSAGES / ROUNDS));
  for (let round = 0; round < ROUNDS; round += 1) {
    rates.plain.push(await measureRate(disk.port, auth, perRound, false, offset));
    rates.durable.push(await measureRate(durableDisk.port, auth, perRound, false, offset));
    rates.encrypt.push(await measureRate(relay.port, auth, perRound, true, offset));
    rates.pass.push(await measureRate(relay.port, auth, perRound, false, offset));
    offset += 2 * perRound;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = (path: number[], base: number[]) => median(path.map((r, i) => r / base[i]!));
  const plain = median(rates.plain);
  const encrypt = median(rates.encrypt);
  const pass = median(rates.pass);
  const durable = median(rates.durable);
  const encryptRatio = ratio(rates.encrypt, rates.plain);
  const passRatio = ratio(rates.pass, rates.plain);
  const verdict = (ok: boolean) => (ok ? 'meets' : 'MISSES');
  console.log(`plain smtp-server, write to disk: ${plain.toFixed(1)} msg/s (median of ${ROUNDS} rounds of ${perRound})`);
  console.log(
    `relay, encrypt rule matching:     ${encrypt.toFixed(1)} msg/s = ${encryptRatio.toFixed(2)} of plain (target ≥ ${TARGETS.encrypt}: ${verdict(encryptRatio >= TARGETS.encrypt)})`,
  );
  console.log(
    `relay, pass-through:              ${pass.toFixed(1)} msg/s = ${passRatio.toFixed(2)} of plain (target ≥ ${TARGETS.pass}: ${verdict(passRatio >= TARGETS.pass)})`,
  );
  console.log(
    `plain smtp-server, write + fsync: ${durable.toFixed(1)} msg/s; against it encrypt ${ratio(rates.encrypt, rates.durable).toFixed(2)}, pass-through ${ratio(rates.pass, rates.durable).toFixed(2)}`,
  );
  console.log(
    `per-round ratios, encrypt: ${rates.encrypt.map((r, i) => (r / rates.plain[i]!).toFixed(2)).join(' ')}; pass-through: ${rates.pass.map((r, i) => (r / rates.plain[i]!).toFixed(2)).join(' ')}`,
  );

  // Drain what the rate runs queued, then measure accepted → delivered at a steady rate.
  await ctx.db.deleteFrom('outbox').execute();
  const worker = startOutboxWorker({ ctx });
  const { arrived } = sink;
  const accepted = new Map<string, number>();
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: relay.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: CONNECTIONS,
    maxMessages: Infinity,
    auth,
  });
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const started = Date.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / LATENCY_RATE;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    const n = 900_000 + i;
    const secure = i % 2 === 0;
    sends.push(
      transport
        .sendMail({ envelope: { from: 'alice@acme.example', to: ['bob@partner.example'] }, raw: makeMessage(n, secure) })
        .then(() => {
          accepted.set(`Figures ${n}`, Date.now());
        }),
    );
  }
  await Promise.all(sends);
  const deadline = Date.now() + 60_000;
  while ([...accepted.keys()].some((s) => !arrived.has(s)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  transport.close();
  const latencies = [...accepted].filter(([s]) => arrived.has(s)).map(([s, at]) => arrived.get(s)! - at);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `accepted → delivered at ${LATENCY_RATE} msg/s for ${LATENCY_SECONDS} s (half encrypted, half passed): ${latencies.length}/${total} delivered, p50 ${p50} ms, p99 ${p99} ms (target ≤ ${TARGETS.p99Ms} ms: ${verdict(p99 <= TARGETS.p99Ms && latencies.length === total)})`,
  );

  await worker.stop();
  await relay.stop();
  await disk.close();
  await durableDisk.close();
  await sink.close();
  await ctx.close();
  fs.rmSync(diskDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
