import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseRoute } from '@/lib/metrics/metrics';
import { runCli } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { freePort, requestAs, SETUP_TIMEOUT_MS, startServer, type TServer } from './helpers/server';
import { passcodeCount, passcodeFor } from './helpers/sink-mail';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

describe('route labels', () => {
  it.each([
    ['/', '/'],
    ['/r/eyJhbGciOi.abc.def', '/r/:id'],
    ['/r/tok/passcode?x=1', '/r/:id/passcode'],
    ['/m/3f2c9a/attachments/0', '/m/:id/attachments/:id'],
    ['/api/v1/messages/abc/unblock', '/api/v1/messages/:id/unblock'],
    ['/api/auth/callback/google', '/api/auth/callback/:id'],
    ['/_next/static/chunks/abc.js', '/_next'],
    ['/<script>/../../etc/passwd', '/:id/:id/:id/:id/:id'],
    ['/a/b/c/d/e/f/g/h/i', '/:id/:id/:id/:id/:id/:id'],
  ])('%s is counted as %s', (url, route) => {
    expect(normaliseRoute(url)).toBe(route);
  });

  it('a thousand different URLs make a handful of label values', () => {
    const routes = new Set(Array.from({ length: 1000 }, (_, i) => normaliseRoute(`/${'x'.repeat(i % 7)}${i}/r/${i}/m/${i}`)));
    expect(routes.size).toBe(1);
  });
});

// Reads one sample's value from the Prometheus text format ("name{labels} value").
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('observability of a running instance', () => {
  let sink: TSmtpSink;
  let server: TServer;
  let metricsPort: number;
  let host: string;
  let token: string;
  let to: string;
  let env: Record<string, string>;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    metricsPort = await freePort();
    const dataDir = makeTempDir();
    env = {
      SEALPOST_DATA_DIR: dataDir,
      SMTP_URL: sink.url,
      SEALPOST_OUTBOX_POLL_MS: '100',
      SEALPOST_DEMO_TENANT: 'off',
      SEALPOST_METRICS_PORT: String(metricsPort),
    };
    server = await startServer(env);
    const slug = `obs${Date.now() % 100000}`;
    expect(runCli(['tenant', 'create', slug, '--name', 'Acme Bank', '--domain', 'acme.example'], env).status).toBe(0);
    const file = path.join(dataDir, 'm.eml');
    to = `erin.${slug}@example.org`;
    fs.writeFileSync(file, sampleEml({ to: [to] }));
    expect(runCli(['send', '--tenant', slug, file], env).status).toBe(0);
    const mail = (await sink.waitFor(1)).find((m) => m.rcptTo.includes(to))!;
    token = /href="http:\/\/[^"]+\/r\/([^"]+)"/.exec(String(mail.parsed.html))![1]!;
    host = `${slug}.localhost:${server.port}`;
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await server?.stop();
    await sink?.close();
  });

  it('/api/health and /api/ready answer on the portal; /metrics is served only on its own listener', async () => {
    expect((await requestAs(server.port, '127.0.0.1', '/api/health')).status).toBe(200);
    const ready = await requestAs(server.port, '127.0.0.1', '/api/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
    for (const h of [host, `127.0.0.1:${server.port}`, 'localhost']) {
      const res = await requestAs(server.port, h, '/metrics');
      expect(res.status).toBe(404);
      expect(res.body).not.toContain('sealpost_');
    }
    // The metrics listener serves nothing but /metrics.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/api/health`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it('the counters move as a recipient asks for a passcode, gets one wrong, signs in and reads', async () => {
    const before = await scrape();
    const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
    const seen = passcodeCount(sink, to);
    const mailsBefore = sink.mails.length;
    const asked = await requestAs(server.port, host, `/r/${token}/passcode`, { method: 'POST', headers: form, body: '' });
    expect(asked.status).toBe(303);
    const cookie = (asked.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const passcode = await passcodeFor(sink, to, seen);
    const wrong = await requestAs(server.port, host, `/r/${token}/signin`, {
      method: 'POST',
      headers: { ...form, cookie },
      body: `passcode=${passcode === '00000000' ? '11111111' : '00000000'}`,
    });
    expect(wrong.status).toBe(303);
    const right = await requestAs(server.port, host, `/r/${token}/signin`, {
      method: 'POST',
      headers: { ...form, cookie },
      body: `passcode=${passcode}`,
    });
    expect(right.status).toBe(303);
    const session = (right.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const read = await requestAs(server.port, host, String(right.headers.location), { headers: { cookie: session } });
    expect(read.status).toBe(200);

    const after = await scrape();
    expect(sample(after, 'sealpost_passcodes_sent_total') - sample(before, 'sealpost_passcodes_sent_total')).toBe(1);
    const signins = (t: string, result: string) => sample(t, 'sealpost_signins_total', { method: 'passcode', result });
    expect(signins(after, 'failed') - signins(before, 'failed')).toBe(1);
    expect(signins(after, 'ok') - signins(before, 'ok')).toBe(1);
    const opens = (t: string) => sample(t, 'sealpost_envelope_opens_total', { result: 'ok' });
    expect(opens(after) - opens(before)).toBeGreaterThanOrEqual(1);
    // The passcode mail went out through the worker: a delivery counted by kind.
    await sink.waitFor(mailsBefore + 1);
    const delivered = (t: string) => sample(t, 'sealpost_deliveries_total', { kind: 'passcode', result: 'sent' });
    expect(delivered(await scrape()) - delivered(before)).toBe(1);
    // Request durations by route template: the token never becomes a label.
    const count = (t: string, route: string, method: string) =>
      sample(t, 'sealpost_http_request_duration_seconds_count', { route, method });
    expect(count(after, '/r/:id/signin', 'POST') - count(before, '/r/:id/signin', 'POST')).toBe(2);
    expect(count(after, '/r/:id/passcode', 'POST') - count(before, '/r/:id/passcode', 'POST')).toBe(1);
    expect(after).not.toContain(token);
    expect(after).not.toContain(to);
    // The outbox gauges are read from the database at scrape time.
    expect(after).toMatch(/^sealpost_outbox_depth \d+$/m);
    expect(after).toMatch(/^sealpost_outbox_oldest_age_seconds [\d.]+$/m);
    expect(after).toMatch(/^process_resident_memory_bytes \d+/m);
    // Recipient pages waiting for their turn to render (lib/http/page-admission.ts): none now.
    expect(after).toMatch(/^sealpost_pages_waiting 0$/m);
  });

  it('the listener is on loopback only by default', async () => {
    // Bound to 127.0.0.1: the same port on another local address of this machine is not it.
    const res = await fetch(`http://127.0.0.2:${metricsPort}/metrics`).catch(() => null);
    expect(res).toBeNull();
  });
});

describe('SIGTERM', () => {
  it('stops accepting, finishes the delivery under way and hands back the rest of the batch; exits 0', async () => {
    const sink = await startSmtpSink();
    sink.delayMs = 1500;
    const dataDir = makeTempDir();
    const env = {
      SEALPOST_DATA_DIR: dataDir,
      SMTP_URL: sink.url,
      SEALPOST_OUTBOX_POLL_MS: '100',
      SEALPOST_DEMO_TENANT: 'off',
      SEALPOST_OUTBOX_CONCURRENCY: '1',
      SEALPOST_OUTBOX_LEASE_SECONDS: '600',
    };
    const server = await startServer(env);
    try {
      expect(runCli(['tenant', 'create', 'term', '--name', 'Acme Bank', '--domain', 'acme.example'], env).status).toBe(0);
      const file = path.join(dataDir, 'm.eml');
      fs.writeFileSync(file, sampleEml({ to: Array.from({ length: 6 }, (_, i) => `t${i}@example.org`) }));
      expect(runCli(['send', '--tenant', 'term', file], env).status).toBe(0);
      // The second mail is in its SMTP session (the sink holds each for 1.5 s) when the signal comes.
      const start = Date.now();
      while (sink.started < 2 && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 20));
      const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
      server.child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(server.output()).toMatch(/SIGTERM: finishing requests and deliveries under way/);
      // Two delivered (the second was in its SMTP session at the signal); the rest due again now.
      expect(sink.mails.length).toBe(2);
      // A worker started now (with the same ten-minute lease) delivers the rest at once.
      sink.delayMs = 0;
      const next = await startServer(env);
      try {
        await sink.waitFor(6, 30_000);
        expect(new Set(sink.mails.map((m) => m.parsed.messageId)).size).toBe(6);
      } finally {
        await next.stop();
      }
    } finally {
      await server.stop();
      await sink.close();
    }
  }, 120_000);
});

describe('the Grafana dashboard', () => {
  it('queries only metrics that Sealpost exports', async () => {
    const { getMetrics } = await import('@/lib/metrics/metrics');
    const exported = new Set((await getMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const dashboard = JSON.parse(
      fs.readFileSync(path.join(import.meta.dirname, '..', 'deploy', 'grafana', 'sealpost-dashboard.json'), 'utf8'),
    );
    const names = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        for (const m of String(target.expr).matchAll(/\b((?:sealpost|process)_[a-z_]+?)(?:_bucket|_count|_sum)?\b(?=[{[)\s]|$)/g))
          names.add(m[1]!);
      }
    }
    expect(names.size).toBeGreaterThanOrEqual(9);
    for (const name of names) expect(exported, name).toContain(name);
  });
});
