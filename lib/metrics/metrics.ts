// Prometheus metrics (prom-client), served on a listener of their own (SEALPOST_METRICS_PORT),
// never on a tenant, auth or base host.
//
// One registry per process, kept on globalThis: scripts/server.mjs (which times every request)
// loads this file directly, and the Next.js server bundle loads its own copy of it, so the two
// must find the same counters. It therefore imports nothing of the project's.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';

type TMetrics = ReturnType<typeof createMetrics>;

function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const outboxProbes: Array<() => Promise<{ depth: number; oldestAgeSeconds: number }>> = [];
  const readOutbox = async () => (outboxProbes[0] ? outboxProbes[0]() : { depth: 0, oldestAgeSeconds: 0 });
  const pageProbes: Array<() => number> = [];
  return {
    registry,
    outboxProbes,
    pageProbes,
    httpDuration: new client.Histogram({
      name: 'sealpost_http_request_duration_seconds',
      help: 'HTTP requests by route (ids replaced by :id), method and status',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    outboxDepth: new client.Gauge({
      name: 'sealpost_outbox_depth',
      help: 'Mails queued for delivery (due now or later)',
      registers: [registry],
      async collect() {
        this.set((await readOutbox()).depth);
      },
    }),
    outboxOldest: new client.Gauge({
      name: 'sealpost_outbox_oldest_age_seconds',
      help: 'Age of the oldest mail still queued',
      registers: [registry],
      async collect() {
        this.set((await readOutbox()).oldestAgeSeconds);
      },
    }),
    pagesWaiting: new client.Gauge({
      name: 'sealpost_pages_waiting',
      help: 'Recipient pages waiting for their turn to render',
      registers: [registry],
      collect() {
        this.set(pageProbes[0]?.() ?? 0);
      },
    }),
    deliveries: new client.Counter({
      name: 'sealpost_deliveries_total',
      help: 'Outbox delivery attempts by kind of mail and result (sent, retried, bounced, failed, cancelled)',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    passcodesSent: new client.Counter({ name: 'sealpost_passcodes_sent_total', help: 'Passcode mails queued', registers: [registry] }),
    signIns: new client.Counter({
      name: 'sealpost_signins_total',
      help: 'Recipient sign-ins by method (passcode or provider) and result (ok, failed)',
      labelNames: ['method', 'result'] as const,
      registers: [registry],
    }),
    envelopeOpens: new client.Counter({
      name: 'sealpost_envelope_opens_total',
      help: 'Envelopes opened with a tenant key, by result (ok or the refusal code)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    relayMessages: new client.Counter({
      name: 'sealpost_relay_messages_total',
      help: 'Messages offered to the SMTP relay by result (accepted, refused, deferred)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

const KEY = Symbol.for('sealpost.metrics');

export function getMetrics(): TMetrics {
  const holder = globalThis as unknown as Record<symbol, TMetrics | undefined>;
  holder[KEY] ??= createMetrics();
  return holder[KEY];
}

// How the outbox gauges are read at scrape time (the process that owns the database sets it).
export function setOutboxProbe(probe: () => Promise<{ depth: number; oldestAgeSeconds: number }>): void {
  const { outboxProbes } = getMetrics();
  outboxProbes.length = 0;
  outboxProbes.push(probe);
}

// How many recipient pages wait to render, read at scrape time (scripts/server.mjs queues them:
// lib/http/page-admission.ts).
export function setPagesWaitingProbe(probe: () => number): void {
  const { pageProbes } = getMetrics();
  pageProbes.length = 0;
  pageProbes.push(probe);
}

// Path segments kept as they are; anything else (ids, tokens, hosts, providers) becomes ":id",
// so a client cannot grow the label set by asking for new URLs.
const ROUTE_WORDS = new Set([
  'r',
  'm',
  'api',
  'v1',
  'messages',
  'unblock',
  'auth',
  'health',
  'ready',
  'open',
  'federated',
  'go',
  'error',
  'complete',
  'attachments',
  'copy',
  'forward',
  'send',
  'reply',
  'gone',
  'passcode',
  'signin',
  'signout',
  'verify',
  'mailbox',
  'admin',
  'callback',
  'session',
  'csrf',
  'providers',
  'favicon.ico',
  'robots.txt',
]);
const MAX_SEGMENTS = 6;

// "/m/3f2c…/attachments/0" → "/m/:id/attachments/:id"; Next.js's assets → "/_next".
export function normaliseRoute(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? '/';
  if (path.startsWith('/_next/')) return '/_next';
  const segments = path.split('/').filter(Boolean).slice(0, MAX_SEGMENTS);
  return `/${segments.map((s) => (ROUTE_WORDS.has(s) ? s : ':id')).join('/')}`;
}

export type StartMetricsServerOptions = { host: string; port: number };

// GET /metrics on its own listener; everything else 404.
export async function startMetricsServer({ host, port }: StartMetricsServerOptions) {
  const { registry } = getMetrics();
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
