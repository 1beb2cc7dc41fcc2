import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the project's scripts (no types of its own)
import { startCluster } from '../scripts/cluster.mjs';
import { openDatabase, type TDb } from '@/lib/store/db';
import { runCli, runCliAsync } from './helpers/cli';
import { createPgDatabase, makeTempDir, sampleEml } from './helpers/context';
import { requestAs, SETUP_TIMEOUT_MS, type THttpResponse } from './helpers/server';
import { passcodeCount, passcodeFor } from './helpers/sink-mail';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

// Two identical instances of `npm start` on one PostgreSQL database behind Debian's nginx (round
// robin): every guarantee holds whichever instance a request lands on. Clients connect from
// 127.0.0.2 and up, so that they are not the proxy (nginx, on 127.0.0.1, is the trusted one).

type TNode = { port: number; metricsPort: number; child: import('node:child_process').ChildProcess; output(): string };
type TCluster = { port: number; nodes: TNode[]; nginxLog(): string; stop(): Promise<void> };

const FORM = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
const READERS = ['bob@gmail.com', 'carol@yahoo.com', 'dave@example.org', 'erin@example.net'];
const ATTACHMENT_TEXT = 'secret attachment bytes';

let sink: TSmtpSink;
let cluster: TCluster;
let db: TDb;
let env: Record<string, string>;
let dropDatabase: () => Promise<void>;
let host: string;
let messageId: string;
const links: Record<string, string> = {};
// Bob's session from the journey, for the load and revocation tests.
let bobSession = '';

const cookiesOf = (res: THttpResponse) => (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
const upstream = (res: THttpResponse) => String(res.headers['x-sealpost-upstream'] ?? '');
const via = (p: string, init: Parameters<typeof requestAs>[3] = {}) =>
  requestAs(cluster.port, host, p, { localAddress: '127.0.0.2', ...init });

// The same request until each instance has answered it (at most six): nginx alternates, but a
// request still in flight from the load test before can take one instance's turn.
async function fromBoth(p: string, init: Parameters<typeof requestAs>[3] = {}): Promise<THttpResponse[]> {
  const answers = [await via(p, init)];
  while (new Set(answers.map(upstream)).size < 2 && answers.length < 6) answers.push(await via(p, init));
  return answers;
}

async function signIn(address: string): Promise<string> {
  const seen = passcodeCount(sink, address);
  const asked = await via(`/r/${links[address]}/passcode`, { method: 'POST', headers: FORM, body: '' });
  expect(asked.status).toBe(303);
  const code = await passcodeFor(sink, address, seen);
  const signed = await via(`/r/${links[address]}/signin`, {
    method: 'POST',
    headers: { ...FORM, cookie: cookiesOf(asked) },
    body: `passcode=${code}`,
  });
  expect(signed.status).toBe(303);
  return cookiesOf(signed);
}

beforeAll(async () => {
  sink = await startSmtpSink();
  const database = await createPgDatabase();
  dropDatabase = database.drop;
  const dataDir = makeTempDir();
  env = {
    DATABASE_URL: database.url,
    SEALPOST_DATA_DIR: dataDir,
    SMTP_URL: sink.url,
    SEALPOST_OUTBOX_POLL_MS: '100',
    SEALPOST_OUTBOX_LEASE_SECONDS: '15',
    SEALPOST_DEMO_TENANT: 'off',
    LOG_LEVEL: 'warn',
  };
  cluster = await startCluster({ instances: 2, env });
  db = openDatabase({ databaseUrl: database.url });
  const cli = { ...env, SEALPOST_PUBLIC_PORT: String(cluster.port) };
  expect(runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], cli).status).toBe(0);
  expect(runCli(['tenant', 'create', 'other', '--name', 'Other Bank', '--domain', 'other.example'], cli).status).toBe(0);
  host = `acme.localhost:${cluster.port}`;
  const file = path.join(dataDir, 'm.eml');
  fs.writeFileSync(file, sampleEml({ to: READERS }));
  const sent = runCli(['send', '--tenant', 'acme', file], cli);
  expect(sent.status).toBe(0);
  messageId = sent.json.messageId;
  await sink.waitFor(READERS.length, 60_000);
  for (const address of READERS) {
    const mail = sink.mails.find((m) => m.rcptTo.includes(address))!;
    links[address] = /href="http:\/\/[^"]+\/r\/([^"]+)"/.exec(String(mail.parsed.html))![1]!;
  }
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.stop();
  await db?.destroy();
  await sink?.close();
  await dropDatabase?.();
});

describe('two instances on PostgreSQL behind nginx', () => {
  it('nginx takes turns: consecutive requests alternate between the two instances', async () => {
    const seen = [];
    for (let i = 0; i < 6; i += 1) seen.push(upstream(await via('/api/ready')));
    const ports = cluster.nodes.map((n) => `127.0.0.1:${n.port}`);
    expect(new Set(seen)).toEqual(new Set(ports));
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  it('the whole journey with requests landing on both instances: passcode, sign-in, read, download, reply', async () => {
    const used = new Set<string>();
    const seen = passcodeCount(sink, 'bob@gmail.com');
    const asked = await via(`/r/${links['bob@gmail.com']}/passcode`, { method: 'POST', headers: FORM, body: '' });
    used.add(upstream(asked));
    const code = await passcodeFor(sink, 'bob@gmail.com', seen);
    const signed = await via(`/r/${links['bob@gmail.com']}/signin`, {
      method: 'POST',
      headers: { ...FORM, cookie: cookiesOf(asked) },
      body: `passcode=${code}`,
    });
    used.add(upstream(signed));
    expect(signed.headers.location).toBe(`/m/${messageId}`);
    const session = cookiesOf(signed);
    bobSession = session;
    for (let i = 0; i < 2; i += 1) {
      const page = await via(`/m/${messageId}`, { headers: { cookie: session } });
      used.add(upstream(page));
      expect(page.status).toBe(200);
      expect(page.body).toContain('Your statement');
      const download = await via(`/m/${messageId}/attachments/0`, { headers: { cookie: session } });
      used.add(upstream(download));
      expect(download.status).toBe(200);
      expect(download.body).toContain(ATTACHMENT_TEXT);
    }
    const before = sink.mails.length;
    const replied = await via(`/m/${messageId}/reply/send`, {
      method: 'POST',
      headers: { ...FORM, cookie: session },
      body: 'all=0&body=Thank+you%2C+received.',
    });
    used.add(upstream(replied));
    expect(replied.status).toBe(303);
    expect(replied.headers.location).toBe(`/m/${messageId}?replied=1`);
    const mails = await sink.waitFor(before + 1, 30_000);
    expect(mails.slice(before).some((m) => m.rcptTo.includes('alice@acme.example'))).toBe(true);
    expect(used.size).toBe(2);
  });

  it('30 parallel wrong guesses spread over both instances: exactly 5 are compared', async () => {
    const address = 'carol@yahoo.com';
    const asked = await via(`/r/${links[address]}/passcode`, { method: 'POST', headers: FORM, body: '' });
    expect(asked.status).toBe(303);
    const code = await passcodeFor(sink, address, 0);
    const wrong = code === '00000000' ? '11111111' : '00000000';
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        via(`/r/${links[address]}/signin`, { method: 'POST', headers: { ...FORM, cookie: cookiesOf(asked) }, body: `passcode=${wrong}` }),
      ),
    );
    expect(new Set(results.map(upstream)).size).toBe(2);
    expect(results.every((r) => r.status === 303 && !cookiesOf(r).includes('session'))).toBe(true);
    const failures = await db
      .selectFrom('audit_events')
      .select('id')
      .where('message_id', '=', messageId)
      .where('type', '=', 'signin_failed')
      .where('actor', '=', address)
      .execute();
    expect(failures).toHaveLength(5);
  });

  it('the resend limit holds across instances', async () => {
    const address = 'dave@example.org';
    const first = await via(`/r/${links[address]}/passcode`, { method: 'POST', headers: FORM, body: '' });
    const second = await via(`/r/${links[address]}/passcode`, { method: 'POST', headers: FORM, body: '' });
    expect(upstream(first)).not.toBe(upstream(second));
    expect(first.status).toBe(303);
    expect(second.status).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it("per-IP limits count the client nginx saw, across instances; a client's own X-Forwarded-For moves nothing", async () => {
    const cli = { ...env, SEALPOST_PUBLIC_PORT: String(cluster.port) };
    const file = path.join(env.SEALPOST_DATA_DIR!, 'other.eml');
    fs.writeFileSync(file, sampleEml({ from: 'Olga <olga@other.example>', to: ['frank@example.org'] }));
    expect(runCli(['send', '--tenant', 'other', file], cli).status).toBe(0);
    const mail = await (async () => {
      for (;;) {
        const m = sink.mails.find((x) => x.rcptTo.includes('frank@example.org'));
        if (m) return m;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const token = /href="http:\/\/[^"]+\/r\/([^"]+)"/.exec(String(mail.parsed.html))![1]!;
    const ask = (i: number, localAddress: string) =>
      requestAs(cluster.port, `other.localhost:${cluster.port}`, `/r/${token}/passcode`, {
        method: 'POST',
        headers: { ...FORM, 'x-forwarded-for': `198.51.100.${i}`, 'x-real-ip': `198.51.100.${i}` },
        body: '',
        localAddress,
      });
    const statuses = [];
    for (let i = 0; i <= 30; i += 1) {
      const r = await ask(i + 1, '127.0.0.3');
      statuses.push(r.status === 429 ? (Number(r.headers['retry-after']) > 60 ? 'ip-limit' : 'resend-limit') : r.status);
    }
    expect(statuses[0]).toBe(303);
    expect(statuses.slice(1, 30).every((s) => s === 'resend-limit')).toBe(true);
    expect(statuses[30]).toBe('ip-limit');
    // Another client (another address as nginx sees it) is not limited by the first one's traffic.
    const other = await ask(99, '127.0.0.4');
    expect(other.status === 303 || (other.status === 429 && Number(other.headers['retry-after']) <= 60)).toBe(true);
  });

  it('sign-out on one instance ends the session on the other', async () => {
    const session = await signIn('erin@example.net');
    const reads = [
      await via(`/m/${messageId}`, { headers: { cookie: session } }),
      await via(`/m/${messageId}`, { headers: { cookie: session } }),
    ];
    expect(reads.map((r) => r.status)).toEqual([200, 200]);
    const out = await via('/signout', { method: 'POST', headers: { ...FORM, cookie: session }, body: '' });
    expect(out.status).toBe(303);
    const after = [
      await via(`/m/${messageId}`, { headers: { cookie: session } }),
      await via(`/m/${messageId}`, { headers: { cookie: session } }),
    ];
    expect(new Set(after.map(upstream)).size).toBe(2);
    for (const r of after) {
      expect(r.status).not.toBe(200);
      expect(r.body).not.toContain('Your statement');
    }
  });

  it('/metrics is on each instance’s own listener, not behind nginx, and counted what each instance did', async () => {
    expect((await via('/metrics')).status).toBe(404);
    const sum = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].reduce((a, m) => a + Number(m[1]), 0);
    let failed = 0;
    let ok = 0;
    for (const node of cluster.nodes) {
      const text = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
      expect(sum(text, /^sealpost_http_request_duration_seconds_count\{[^}]*\} (\d+)/gm)).toBeGreaterThan(5);
      failed += sum(text, /^sealpost_signins_total\{method="passcode",result="failed"\} (\d+)/gm);
      ok += sum(text, /^sealpost_signins_total\{method="passcode",result="ok"\} (\d+)/gm);
    }
    // Between them, the two instances counted exactly the sign-ins this file made: Carol's five
    // compared wrong guesses, and Bob's and Erin's sign-ins.
    expect({ failed, ok }).toEqual({ failed: 5, ok: 2 });
  });

  it('500 concurrent readers for 60 s through nginx: no errors, and the memory is given back afterwards (no leak)', async () => {
    const session = bobSession;
    const rss = (node: TNode) => {
      const status = fs.readFileSync(`/proc/${node.child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    };
    // The live JavaScript heap, from each instance's own metrics.
    const heapUsed = async (node: TNode) => {
      const text = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
      return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)![1]);
    };
    const heapBefore = await Promise.all(cluster.nodes.map(heapUsed));
    const samples: number[][] = [];
    const sampler = setInterval(() => samples.push(cluster.nodes.map(rss)), 5_000);
    const result = await autocannon({
      url: `http://127.0.0.1:${cluster.port}/m/${messageId}`,
      connections: 500,
      duration: Number(process.env.SEALPOST_CLUSTER_LOAD_SECONDS ?? 60),
      timeout: 60,
      headers: { host, cookie: session },
    });
    clearInterval(sampler);
    // V8 lets the heap grow under load and collects when it is idle: what is still held after a
    // quiet moment is what a leak would keep.
    // Requests nginx had queued still finish after the clients are gone: up to a minute for both
    // instances to settle. A leak never comes down.
    const bound = heapBefore.map((b) => 1.5 * b + 32 * 2 ** 20);
    let heapAfter = await Promise.all(cluster.nodes.map(heapUsed));
    for (const until = Date.now() + 60_000; heapAfter.some((h, n) => h > bound[n]!) && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 2_000));
      heapAfter = await Promise.all(cluster.nodes.map(heapUsed));
    }
    const rssAfter = cluster.nodes.map(rss);
    const mb = (b: number) => Math.round(b / 2 ** 20);
    console.log(
      `cluster load: ${result.requests.total} reads in ${result.duration} s (${result.requests.average} req/s), p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}; RSS MB per instance every 5 s: ${samples.map((s) => s.map(mb).join('/')).join(' ')}; once settled RSS ${rssAfter.map(mb).join('/')} MB, heap used ${heapBefore.map(mb).join('/')} MB before, ${heapAfter.map(mb).join('/')} MB after`,
    );
    if (result.non2xx || result.errors || result.timeouts) {
      // What answered otherwise, and what nginx and the instances said about it.
      console.log(`status codes: ${JSON.stringify(result.statusCodeStats)}`);
      console.log(`nginx: ${cluster.nginxLog().slice(-4_000)}`);
      for (const node of cluster.nodes) {
        const lines = [...new Set(node.output().split('\n'))].filter((l) => !l.includes('MaxListenersExceededWarning'));
        console.log(`instance ${node.port}, its distinct output lines:\n${lines.slice(-60).join('\n')}`);
      }
    }
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result['2xx']).toBeGreaterThan(100);
    for (let n = 0; n < cluster.nodes.length; n += 1) {
      expect(heapAfter[n]!, `instance ${n}: heap after the load`).toBeLessThanOrEqual(bound[n]!);
    }
  }, 260_000);

  it('revocation on one is seen at once by both', async () => {
    const session = bobSession;
    expect((await via(`/m/${messageId}`, { headers: { cookie: session } })).status).toBe(200);
    const revoked = await runCliAsync(['revoke', messageId], env);
    expect(revoked.status).toBe(0);
    const after = await fromBoth(`/m/${messageId}`, { headers: { cookie: session } });
    expect(new Set(after.map(upstream)).size).toBe(2);
    for (const r of after) {
      // The reader is sent to the message's gone page, which says so with 410.
      expect(r.status).toBe(307);
      expect(r.headers.location).toBe(`/m/${messageId}/gone`);
    }
    const gone = await fromBoth(`/m/${messageId}/gone`, { headers: { cookie: session } });
    expect(new Set(gone.map(upstream)).size).toBe(2);
    for (const r of gone) {
      expect(r.status).toBe(410);
      expect(r.body).not.toContain('The secret body');
    }
    const link = await via(`/r/${links['bob@gmail.com']}`);
    expect([410, 307]).toContain(link.status);
  });

  it('2,000 wrappers with both workers delivering, one instance killed mid-batch: every mail arrives, duplicates only for mails in flight', async () => {
    const cli = { ...env, SEALPOST_PUBLIC_PORT: String(cluster.port) };
    const start = sink.mails.length;
    const expected: string[] = [];
    for (let batch = 0; batch < 4; batch += 1) {
      const to = Array.from({ length: 500 }, (_, i) => `r${batch}-${i}@example.org`);
      const file = path.join(env.SEALPOST_DATA_DIR!, `bulk${batch}.eml`);
      fs.writeFileSync(file, sampleEml({ to, attachment: false }));
      const sent = await runCliAsync(['send', '--tenant', 'acme', file], cli);
      expect(sent.status).toBe(0);
      const ids = await db.selectFrom('outbox').select('smtp_message_id').where('message_id', '=', sent.json.messageId).execute();
      expected.push(...ids.map((r) => r.smtp_message_id));
    }
    expect(expected).toHaveLength(2000);
    await sink.waitFor(start + 300, 120_000);
    const killed = cluster.nodes[0]!;
    killed.child.kill('SIGKILL');
    const deadline = Date.now() + 240_000;
    const arrived = () => new Set(sink.mails.slice(start).map((m) => `<${String(m.parsed.messageId).replace(/^<|>$/g, '')}>`));
    while (Date.now() < deadline && expected.some((id) => !arrived().has(id))) await new Promise((r) => setTimeout(r, 250));
    const got = arrived();
    expect(expected.filter((id) => !got.has(id))).toEqual([]);
    const total = sink.mails.length - start;
    const duplicates = total - got.size;
    console.log(`cluster outbox: 2000 wrappers, ${total} mails received, ${duplicates} duplicates after SIGKILL of one instance`);
    // Only mails in an SMTP session at the kill can arrive twice: at most one worker's concurrency.
    expect(duplicates).toBeLessThanOrEqual(8);
  }, 400_000);
});
