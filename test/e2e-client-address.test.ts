import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { freePort, requestAs, startServer, type TServer } from './helpers/server';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

// Per-IP limits count the address the connection came from (or, behind a proxy the operator
// listed in SEALPOST_TRUSTED_PROXIES, the right-most address that proxy did not add): never a
// value the client chose. Observed through the real server: the passcode route's per-IP limit
// (30 an hour) answers 429 with an hour's Retry-After, the resend limit only with seconds.
const PER_IP_MAX = 30;

type TSetup = { server: TServer; token: string; host: string };

async function setUp(sink: TSmtpSink, extra: Record<string, string>): Promise<TSetup> {
  const dataDir = makeTempDir();
  const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off', ...extra };
  const server = await startServer(env);
  const slug = `ip${Date.now() % 100000}`;
  expect(runCli(['tenant', 'create', slug, '--name', 'Acme Bank', '--domain', 'acme.example'], env).status).toBe(0);
  const file = path.join(dataDir, 'm.eml');
  const to = `dana.${slug}@example.org`;
  fs.writeFileSync(file, sampleEml({ to: [to] }));
  expect(runCli(['send', '--tenant', slug, file], env).status).toBe(0);
  const mails = await sink.waitFor(sink.mails.length + 1);
  const mail = mails.find((m) => m.rcptTo.includes(to))!;
  const token = /href="http:\/\/[^"]+\/r\/([^"]+)"/.exec(String(mail.parsed.html))![1]!;
  return { server, token, host: `${slug}.localhost:${server.port}` };
}

// One passcode request; 'ip-limit' when the per-IP window (an hour) is what refused it.
async function askPasscode(
  { server, token, host }: TSetup,
  headers: Record<string, string>,
  localAddress?: string,
): Promise<'ok' | 'resend-limit' | 'ip-limit' | number> {
  const res = await requestAs(server.port, host, `/r/${token}/passcode`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
    body: '',
    localAddress,
  });
  if (res.status === 303) return 'ok';
  if (res.status !== 429) return res.status;
  return Number(res.headers['retry-after']) > 60 ? 'ip-limit' : 'resend-limit';
}

const spoofed = (i: number) => ({
  'x-forwarded-for': `198.51.100.${i}`,
  'x-real-ip': `198.51.100.${i}`,
  forwarded: `for=198.51.100.${i}`,
  'x-sealpost-client': `198.51.100.${i}`,
});

describe('the client address', () => {
  let sink: TSmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(() => sink?.close());

  describe('with no trusted proxy (the default)', () => {
    let setup: TSetup;
    let metricsPort: number;
    beforeAll(async () => {
      metricsPort = await freePort();
      setup = await setUp(sink, { SEALPOST_METRICS_PORT: String(metricsPort) });
    });
    afterAll(() => setup?.server.stop());

    // Next.js once proxied proxy.ts's rewrite into the tenant tree over HTTP back to this server: a
    // second request (from this machine's address) for every tenant-host one, cut off with a 500
    // after 30 s under load. The server counts every request it receives.
    it('serves a tenant-host request in one pass: the rewrite is not sent back to the server over HTTP', async () => {
      const counted = async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return [...text.matchAll(/^sealpost_http_request_duration_seconds_count\{([^}]*)\} (\d+)/gm)].map((m) => ({
          labels: m[1]!,
          n: Number(m[2]),
        }));
      };
      const total = (rows: { n: number }[]) => rows.reduce((a, r) => a + r.n, 0);
      const before = total(await counted());
      const res = await requestAs(setup.server.port, setup.host, `/r/${setup.token}`);
      expect(res.status).toBe(200);
      expect(res.body).toContain('Acme Bank');
      const after = await counted();
      expect(total(after) - before).toBe(1);
      expect(after.some((r) => r.labels.includes('route="/t'))).toBe(false);
    });

    it('ignores X-Forwarded-For, X-Real-IP, Forwarded and our own header: a new value per request escapes nothing', async () => {
      const results = [];
      for (let i = 0; i <= PER_IP_MAX; i += 1) results.push(await askPasscode(setup, spoofed(i + 1)));
      expect(results[0]).toBe('ok');
      expect(results.slice(1, PER_IP_MAX).every((r) => r === 'resend-limit')).toBe(true);
      expect(results[PER_IP_MAX]).toBe('ip-limit');
    });
  });

  // As in production: the proxy's address is the only trusted one, and this machine (127.0.0.1
  // here) is not a proxy. Were a tenant-host request ever handled in a second pass from this
  // machine's address (as Next.js's HTTP-proxied rewrite once was), every client would count as
  // this machine: one shared limit.
  describe('behind a proxy that is not this machine (SEALPOST_TRUSTED_PROXIES=127.0.0.2)', () => {
    let setup: TSetup;
    beforeAll(async () => {
      setup = await setUp(sink, { SEALPOST_TRUSTED_PROXIES: '127.0.0.2' });
    });
    afterAll(() => setup?.server.stop());

    it('counts each client the proxy names, on tenant-host routes too', async () => {
      const results = [];
      for (let i = 0; i <= PER_IP_MAX; i += 1) {
        results.push(await askPasscode(setup, { 'x-forwarded-for': `198.51.100.${i + 1}` }, '127.0.0.2'));
      }
      expect(results[0]).toBe('ok');
      // Thirty-one clients, one request each: the resend limit, never the per-IP one.
      expect(results.slice(1).every((r) => r === 'resend-limit')).toBe(true);
      // One client asking thirty-one times is held at its own limit.
      const one = [];
      for (let i = 0; i <= PER_IP_MAX; i += 1) one.push(await askPasscode(setup, { 'x-forwarded-for': '203.0.113.9' }, '127.0.0.2'));
      expect(one.slice(0, PER_IP_MAX).includes('ip-limit')).toBe(false);
      expect(one[PER_IP_MAX]).toBe('ip-limit');
    });

    it('a request straight from another address (not the proxy) is that address, whatever it claims', async () => {
      const results = [];
      for (let i = 0; i <= PER_IP_MAX; i += 1) results.push(await askPasscode(setup, spoofed(i + 100), '127.0.0.5'));
      expect(results[PER_IP_MAX]).toBe('ip-limit');
    });
  });

  describe('behind a trusted proxy (SEALPOST_TRUSTED_PROXIES=loopback)', () => {
    let setup: TSetup;
    beforeAll(async () => {
      setup = await setUp(sink, { SEALPOST_TRUSTED_PROXIES: '127.0.0.1/8, ::1' });
    });
    afterAll(() => setup?.server.stop());

    it("counts the address the proxy saw, and a client's own X-Forwarded-For in front of it moves nothing", async () => {
      // Many clients through the proxy: none is held back by another's limit.
      for (let i = 0; i <= PER_IP_MAX; i += 1) {
        expect(await askPasscode(setup, { 'x-forwarded-for': `198.51.100.${i + 1}` })).not.toBe('ip-limit');
      }
      // One client who writes a fresh address of their own before the proxy's each time.
      const results = [];
      for (let i = 0; i <= PER_IP_MAX; i += 1) results.push(await askPasscode(setup, { 'x-forwarded-for': `10.9.${i}.1, 203.0.113.50` }));
      expect(results.slice(0, PER_IP_MAX).includes('ip-limit')).toBe(false);
      expect(results[PER_IP_MAX]).toBe('ip-limit');
    });
  });
});
