import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { requestAs, startServer, type TServer } from './helpers/server';
import { passcodeFor } from './helpers/sink-mail';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';
import { openInstallationDatabase } from './helpers/installation';

// Unauthenticated work is small and bounded, against the production server: a bad token costs
// POST /open a few KB of however large an upload, and the link pages' forms are small.

const UPLOAD_BYTES = 30 * 1024 * 1024;
const CONCURRENT = 20;
const PEAK_RSS_GROWTH_LIMIT = 150 * 1024 * 1024;

let sink: TSmtpSink;
let dataDir: string;
let server: TServer;
let rt: string;
let envelope: string;

// The server's peak resident set so far (VmHWM), in bytes.
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error('no VmHWM');
  return Number(kb) * 1024;
}

type TUploadOutcome = { status?: number; error?: string; sentBytes: number };

// One chunked upload (no Content-Length, so the server cannot refuse it by a header): `head`, then
// filler up to `totalBytes`. It stops as soon as the server answers, or after the timeout.
type ChunkedUploadOptions = {
  host: string;
  head: string;
  totalBytes: number;
  timeoutMs?: number;
  path?: string;
  headers?: Record<string, string>;
};

function chunkedUpload({
  host,
  head,
  totalBytes,
  timeoutMs = 60_000,
  path: urlPath = '/open',
  headers = {},
}: ChunkedUploadOptions): Promise<TUploadOutcome> {
  return new Promise((resolve) => {
    let sentBytes = 0;
    let isDone = false;
    const finish = (outcome: Omit<TUploadOutcome, 'sentBytes'>) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...outcome, sentBytes });
    };
    const req = http.request({
      host: '127.0.0.1',
      port: server.port,
      path: urlPath,
      method: 'POST',
      // A header given as '' is left out (e.g. transfer-encoding, for a declared length).
      headers: Object.fromEntries(
        Object.entries({
          host,
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'null',
          'transfer-encoding': 'chunked',
          ...headers,
        }).filter(([, v]) => v !== ''),
      ),
    });
    const timer = setTimeout(() => finish({ error: 'timeout' }), timeoutMs);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish({ status: res.statusCode }));
      res.on('error', () => finish({ status: res.statusCode }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message }));
    const filler = Buffer.alloc(64 * 1024, 0x41);
    const pump = () => {
      while (!isDone && sentBytes < totalBytes) {
        sentBytes += filler.length;
        if (!req.write(filler)) return void req.once('drain', pump);
      }
      if (!isDone) req.end();
    };
    req.write(head);
    sentBytes += head.length;
    pump();
  });
}

beforeAll(async () => {
  sink = await startSmtpSink();
  dataDir = makeTempDir();
  const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
  server = await startServer(env);
  const cliEnv = { ...env, PORT: String(server.port) };
  expect(runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], cliEnv).status).toBe(0);
  const file = path.join(dataDir, 'statement.eml');
  fs.writeFileSync(file, sampleEml({ to: ['bob@gmail.com'] }));
  const sent = runCli(['send', '--tenant', 'acme', file], cliEnv);
  expect(sent.status, sent.stderr).toBe(0);
  const [mail] = await sink.waitFor(1);
  const html = mail!.parsed.attachments.find((a) => a.filename === 'message.html')!.content.toString('utf8');
  rt = /name="rt" value="([^"]+)"/.exec(html)![1]!;
  envelope = /name="envelope" value="([^"]+)"/.exec(html)![1]!;
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

const host = () => `acme.localhost:${server.port}`;
const openPost = (body: string) =>
  requestAs(server.port, host(), '/open', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' },
    body,
  });

describe('POST /open checks the token before it reads the envelope', () => {
  it("still takes message.html's own post (rt, then envelope) to the passcode page", async () => {
    const response = await openPost(`rt=${rt}&envelope=${envelope}`);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`/r/${rt}`);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a form whose first field is not the token, and a damaged token', async () => {
    expect((await openPost(`envelope=${envelope}&rt=${rt}`)).status).toBe(400);
    const damaged = await openPost(`rt=${rt.slice(0, -6)}AAAAAA&envelope=${envelope}`);
    expect(damaged.status).toBe(400);
    expect(damaged.body).toBe('This link cannot be used.');
  });

  it(`refuses ${CONCURRENT} concurrent chunked ${UPLOAD_BYTES / 1024 / 1024} MB uploads with a bad token, and its peak memory stays bounded`, async () => {
    const pid = server.child.pid!;
    const before = peakRss(pid);
    const bad = `rt=${rt.slice(0, -6)}AAAAAA&envelope=`;
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: CONCURRENT }, () => chunkedUpload({ host: host(), head: bad, totalBytes: UPLOAD_BYTES })),
    );
    const elapsed = Date.now() - started;
    const after = peakRss(pid);
    const growth = after - before;
    const sent = outcomes.reduce((n, o) => n + o.sentBytes, 0);
    console.log(
      JSON.stringify({
        peakRssBeforeMB: +(before / 2 ** 20).toFixed(1),
        peakRssAfterMB: +(after / 2 ** 20).toFixed(1),
        growthMB: +(growth / 2 ** 20).toFixed(1),
        sentMB: +(sent / 2 ** 20).toFixed(1),
        elapsedMs: elapsed,
        statuses: outcomes.map((o) => o.status ?? o.error),
      }),
    );
    for (const outcome of outcomes) expect([400, 503], JSON.stringify(outcome)).toContain(outcome.status);
    // Each upload was cut short: the server answered long before 30 MB had been sent.
    expect(sent).toBeLessThan((CONCURRENT * UPLOAD_BYTES) / 4);
    expect(growth).toBeLessThan(PEAK_RSS_GROWTH_LIMIT);
    // And the server is fine afterwards.
    expect((await openPost(`rt=${rt}&envelope=${envelope}`)).status).toBe(303);
  }, 180_000);
});

describe('every other route decides the body size before Next.js buffers a byte', () => {
  it(`${CONCURRENT} concurrent ${UPLOAD_BYTES / 1024 / 1024} MB uploads to a link page, chunked or declared, are refused at once`, async () => {
    const pid = server.child.pid!;
    const before = peakRss(pid);
    const uploads = Array.from({ length: CONCURRENT }, (_, i) =>
      chunkedUpload({
        host: host(),
        head: 'x=',
        totalBytes: UPLOAD_BYTES,
        path: `/r/${rt}/passcode`,
        headers: {
          'sec-fetch-site': 'same-origin',
          ...(i % 2 ? { 'content-length': String(UPLOAD_BYTES + 2), 'transfer-encoding': '' } : {}),
        },
      }),
    );
    const outcomes = await Promise.all(uploads);
    const growth = peakRss(pid) - before;
    console.log(
      JSON.stringify({ route: 'passcode', growthMB: +(growth / 2 ** 20).toFixed(1), statuses: outcomes.map((o) => o.status ?? o.error) }),
    );
    for (const outcome of outcomes) expect([411, 413], JSON.stringify(outcome)).toContain(outcome.status);
    expect(growth).toBeLessThan(PEAK_RSS_GROWTH_LIMIT);
  }, 180_000);

  it(`${CONCURRENT} concurrent ${UPLOAD_BYTES / 1024 / 1024} MB uploads to the API with a bad key: four at a time are read, the rest wait their turn (503)`, async () => {
    const pid = server.child.pid!;
    const before = peakRss(pid);
    const apiHeaders = { authorization: 'Bearer sp_not-a-key', 'content-type': 'message/rfc822' };
    // Four uploads that have started and hold their slots until the test lets them finish.
    const held = Array.from({ length: 4 }, () => {
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        path: '/api/v1/messages',
        method: 'POST',
        headers: { host: `localhost:${server.port}`, 'transfer-encoding': 'chunked', ...apiHeaders },
      });
      const status = new Promise<number | string>((resolve) => {
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      req.write('From: a@acme.example\r\n');
      return { req, status };
    });
    await new Promise((r) => setTimeout(r, 1000));
    const others = await Promise.all(
      Array.from({ length: CONCURRENT - 4 }, () =>
        chunkedUpload({
          host: `localhost:${server.port}`,
          head: 'From: a@acme.example\r\n',
          totalBytes: UPLOAD_BYTES,
          path: '/api/v1/messages',
          headers: apiHeaders,
        }),
      ),
    );
    const filler = Buffer.alloc(UPLOAD_BYTES / 4, 0x41);
    for (const { req } of held) req.end(filler);
    const heldStatuses = await Promise.all(held.map((h) => h.status));
    const growth = peakRss(pid) - before;
    const statuses = others.map((o) => o.status ?? o.error);
    console.log(JSON.stringify({ route: 'api', growthMB: +(growth / 2 ** 20).toFixed(1), held: heldStatuses, others: statuses }));
    // While four are being read, every other upload is turned away at once, unread.
    expect(statuses).toEqual(Array(CONCURRENT - 4).fill(503));
    // The four read ones reach the route, which refuses the key.
    expect(heldStatuses).toEqual([401, 401, 401, 401]);
    // At most four bodies of at most 48 MB were ever held, with their copies.
    expect(growth).toBeLessThan(4 * 48 * 1024 * 1024 * 3);
  }, 180_000);
});

describe("the link pages' forms are small", () => {
  const passcodeRows = async () => {
    const db = openInstallationDatabase({ SEALPOST_DATA_DIR: dataDir });
    try {
      const count = async (table: 'passcode_challenges' | 'rate_events') =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return { challenges: await count('passcode_challenges'), rateEvents: await count('rate_events') };
    } finally {
      await db.destroy();
    }
  };
  const sameOrigin = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

  it('a 1 MB post to the passcode request is refused with 413, and nothing is recorded or sent', async () => {
    const before = await passcodeRows();
    const mails = sink.mails.length;
    const big = `x=${'a'.repeat(1024 * 1024)}`;
    const declared = await requestAs(server.port, host(), `/r/${rt}/passcode`, { method: 'POST', headers: sameOrigin, body: big });
    expect(declared.status).toBe(413);
    // The same without a Content-Length (chunked): refused once it passes the limit.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: `/r/${rt}/passcode`,
          method: 'POST',
          headers: { host: host(), ...sameOrigin, 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 16; i += 1) req.write(big.slice(i * 65536, (i + 1) * 65536));
      req.end();
    });
    // A form's size is known before it is sent: without one, it is not read at all.
    expect(chunked).toBe(411);
    expect(await passcodeRows()).toEqual(before);
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.mails.length).toBe(mails);
    // A real request (an empty form, as the page's button sends) still works.
    const ok = await requestAs(server.port, host(), `/r/${rt}/passcode`, { method: 'POST', headers: sameOrigin, body: '' });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toMatch(new RegExp(`^/r/${rt.replace(/\./g, '\\.')}/verify\\?ref=`));
    expect((await passcodeRows()).challenges).toBe(before.challenges + 1);
  });

  it.each(['signin', 'federated'])('a 1 MB post to /r/<token>/%s is refused with 413', async (route) => {
    const response = await requestAs(server.port, host(), `/r/${rt}/${route}`, {
      method: 'POST',
      headers: sameOrigin,
      body: `passcode=${'1'.repeat(1024 * 1024)}`,
    });
    expect(response.status).toBe(413);
  });

  it('a 1 MB post to /signout is refused with 413', async () => {
    const response = await requestAs(server.port, host(), '/signout', {
      method: 'POST',
      headers: sameOrigin,
      body: `x=${'a'.repeat(1024 * 1024)}`,
    });
    expect(response.status).toBe(413);
  });
});

describe("a signed-in reader's larger forms", () => {
  // Next.js sends each tenant-host request through scripts/server.mjs twice (its rewrite into the
  // tenant tree comes back as /t/<host>/…): the body limit is decided on the first pass alone, so
  // a reply keeps its own limit (48 MB, attachments included) and is not cut to the small one.
  it('a 150 KB reply is taken, not refused with 413', async () => {
    const FORM = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
    // A recipient of their own: the other tests here ask Bob's link for passcodes.
    const file = path.join(dataDir, 'reply.eml');
    fs.writeFileSync(file, sampleEml({ to: ['carol@yahoo.com'] }));
    const before = sink.mails.length;
    const cliEnv = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_DEMO_TENANT: 'off', PORT: String(server.port) };
    expect(runCli(['send', '--tenant', 'acme', file], cliEnv).status).toBe(0);
    await sink.waitFor(before + 1);
    const start = Date.now();
    while (!sink.mails.some((m) => m.rcptTo.includes('carol@yahoo.com')) && Date.now() - start < 30_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const mail = sink.mails.find((m) => m.rcptTo.includes('carol@yahoo.com'))!;
    const link = /href="http:\/\/[^"]+\/r\/([^"]+)"/.exec(String(mail.parsed.html))![1]!;
    const asked = await requestAs(server.port, host(), `/r/${link}/passcode`, { method: 'POST', headers: FORM, body: '' });
    expect(asked.status).toBe(303);
    const code = await passcodeFor(sink, 'carol@yahoo.com', 0);
    const cookie = (asked.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const signed = await requestAs(server.port, host(), `/r/${rt}/signin`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: `passcode=${code}`,
    });
    expect(signed.status).toBe(303);
    const session = (signed.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const messagePath = String(signed.headers.location);
    const reply = `all=0&body=${'r'.repeat(150_000)}`;
    const replied = await requestAs(server.port, host(), `${messagePath}/reply/send`, {
      method: 'POST',
      headers: { ...FORM, cookie: session, 'content-length': String(reply.length) },
      body: reply,
    });
    expect(replied.status).toBe(303);
    expect(replied.headers.location).toBe(`${messagePath}?replied=1`);
  });
});
