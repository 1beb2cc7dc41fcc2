// The HTTP server behind `npm start` (and `npm run dev`): Next.js under a plain node:http server,
// so that the one thing Next.js cannot tell a route — which address the TCP connection really
// came from — is decided here, once, before any of the app runs.
//
// Next.js keeps a client's own X-Forwarded-For and only fills it in when it is missing, so any
// client could choose the address every per-IP limit counts. Here the client address is the
// socket's peer, or, when that peer is a proxy the operator listed in SEALPOST_TRUSTED_PROXIES,
// the right-most X-Forwarded-For hop that is not such a proxy (proxy-addr). Forwarding headers
// from an untrusted peer are dropped. The result travels to proxy.ts and the routes in
// x-sealpost-client / x-sealpost-local, with a per-process mark that proxy.ts checks, so a
// request that did not come through this server (or forged the headers) carries nothing.
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import proxyAddr from 'proxy-addr';
import { ConfigError, mailDeliveryProblem, parseConfig } from '../lib/env.ts';
import { publishLayoutStylesheets } from '../lib/http/layout-stylesheets.ts';
import { isScriptFreePage, readBuildStylesheets, serveScriptFree } from '../lib/http/script-free-pages.ts';
import { createPageAdmission } from '../lib/http/page-admission.ts';
import { getMetrics, normaliseRoute, setPagesWaitingProbe, startMetricsServer } from '../lib/metrics/metrics.ts';
import { runShutdownHooks } from '../lib/server/shutdown.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dev = process.argv.includes('--dev');
// As `next start` / `next dev` do; React picks its build by it, so before Next.js is loaded.
process.env.NODE_ENV = dev ? 'development' : 'production';
const { default: next } = await import('next');

let config;
try {
  config = parseConfig();
  const problem = mailDeliveryProblem(config);
  if (problem) throw new ConfigError(`Invalid configuration:\n  ${problem}`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`sealpost: ${error.message}`);
  process.exit(2);
}

const trust = proxyAddr.compile(config.trustedProxies);
const FORWARDING = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded', 'x-real-ip'];
const INTERNAL = ['x-sealpost-client', 'x-sealpost-local', 'x-sealpost-peer-mark'];
const MARK = crypto.randomBytes(24).toString('base64url');
globalThis[Symbol.for('sealpost.peerMark')] = MARK;

const LOOPBACK = proxyAddr.compile('loopback');
const isLoopback = (address) => Boolean(address) && LOOPBACK(address, 0);

function annotate(req) {
  const peer = req.socket.remoteAddress ?? '';
  const isTrustedPeer = Boolean(peer) && trust(peer, 0);
  const client = peer ? proxyAddr(req, trust) : 'unknown';
  const hadForwarding = FORWARDING.some((h) => h in req.headers);
  for (const h of INTERNAL) delete req.headers[h];
  // An untrusted peer's forwarding headers are its own claims: nothing downstream sees them.
  if (!isTrustedPeer) for (const h of FORWARDING) delete req.headers[h];
  req.headers['x-sealpost-client'] = client;
  // This machine, asking directly: the peer and the client are loopback and nobody relayed it
  // (a reverse proxy on the same machine would relay everyone's requests from 127.0.0.1).
  const isLocal = isLoopback(peer) && isLoopback(client) && (isTrustedPeer || !hadForwarding);
  req.headers['x-sealpost-local'] = isLocal ? '1' : '0';
  req.headers['x-sealpost-peer-mark'] = MARK;
}

// Request bodies. Next.js buffers the whole body of every request its proxy runs for (up to
// proxyClientMaxBodySize, 48 MB) before any route decides anything, so the size a request may
// send is decided here, by path, before Next.js reads a byte: a small limit for every route,
// more only where a whole message travels, and those few share a handful of slots (memory
// exhaustion by parallel uploads). POST /open is outside the proxy and bounds itself (token first).
const SMALL_BODY_BYTES = 64 * 1024;
const BODY_LIMITS = [
  // A forward's note (100,000 characters) and its addresses.
  { path: /^\/m\/[^/]+\/forward\/send$/, maxBytes: 1024 * 1024, isLarge: false },
  { path: /^\/m\/[^/]+\/reply\/send$/, maxBytes: 48 * 1024 * 1024, isLarge: true },
  { path: /^\/api\/v1\/messages$/, maxBytes: 48 * 1024 * 1024, isLarge: true },
  { path: /^\/open$/, maxBytes: Infinity, isLarge: false },
  // A branding template with its logo (at most 100 KB; the handler checks the logo itself).
  { path: /^\/admin\/templates\/save$/, maxBytes: 256 * 1024, isLarge: false },
  // A message for the console's rule test (at most 4 MB; RULE_TEST_MAX_BYTES), and its envelope.
  { path: /^\/admin\/rules\/test$/, maxBytes: 4 * 1024 * 1024 + 64 * 1024, isLarge: false },
];
const MAX_LARGE_BODIES = 4;
let largeBodies = 0;

// Answers and returns false, so a check can end with `return refuse(…)`.
function refuse(req, res, status, text, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
  // The rest of the upload is discarded unread for a moment (so the client reads the answer
  // rather than a reset), then the connection goes.
  res.once('finish', () => {
    req.resume();
    setTimeout(() => req.destroy(), 2000).unref();
  });
  return false;
}

// True when the request may go on; otherwise it has been answered.
function admitBody(req, res) {
  const declared = req.headers['content-length'];
  const isChunked = 'transfer-encoding' in req.headers;
  if (declared === undefined && !isChunked) return true;
  const path = (req.url ?? '/').split('?')[0];
  const rule = BODY_LIMITS.find((r) => r.path.test(path)) ?? { maxBytes: SMALL_BODY_BYTES, isLarge: false };
  if (rule.maxBytes === Infinity) return true;
  const size = Number(declared ?? NaN);
  if (Number.isFinite(size) && size > rule.maxBytes) return refuse(req, res, 413, 'Request body too large');
  // A small body must say its size: counting a chunked stream would mean reading it for Next.js.
  if (!rule.isLarge && isChunked) return refuse(req, res, 411, 'Length required');
  if (!rule.isLarge || (Number.isFinite(size) && size <= SMALL_BODY_BYTES)) return true;
  if (largeBodies >= MAX_LARGE_BODIES) return refuse(req, res, 503, 'Busy, try again shortly', { 'retry-after': '5' });
  largeBodies += 1;
  res.once('close', () => (largeBodies -= 1));
  return true;
}

// Next.js compares the URL proxy.ts rewrites to (built on `localhost`, whatever HOST is) with its
// own idea of this server's origin, built on this `hostname`: when the two differ, it treats a
// rewrite into the tenant tree as another site's and proxies it over HTTP back to this very
// server — a second connection per request, cut off with a 500 after 30 s under load. Kept
// equal, every rewrite is served in this process. HOST alone decides where the server listens.
const app = next({ dev, dir: root, hostname: 'localhost', port: config.PORT });
const handle = app.getRequestHandler();
await app.prepare();

const { httpDuration } = getMetrics();
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
// Every request's duration by route (ids and tokens replaced), from its first byte to the
// response's last; the label values are bounded whatever a client asks for.
function timeRequest(req, res) {
  const stop = httpDuration.startTimer();
  res.once('close', () =>
    stop({ route: normaliseRoute(req.url ?? '/'), method: METHODS.has(req.method) ? req.method : 'OTHER', status: String(res.statusCode) }),
  );
}

// The build's stylesheet, inlined into the recipient's pages (not under `next dev`, which rebuilds it).
const readStylesheet = dev ? undefined : readBuildStylesheets(root);
// Which they are, for the pages route handlers render themselves (Next.js 16 builds `next dev`'s
// output into .next/dev).
publishLayoutStylesheets({ distDir: path.join(root, '.next', ...(dev ? ['dev'] : [])), isDev: dev });

// The recipient's pages, a few at a time and first come first served (fair latency at the peak);
// more than a proxy would wait out already waiting: 503 at once.
const pages = createPageAdmission({ concurrency: config.SEALPOST_PAGE_CONCURRENCY, maxWaiting: 1000 });
setPagesWaitingProbe(() => pages.waiting);

const server = http.createServer((req, res) => {
  timeRequest(req, res);
  // Only origin-form targets (`/path`): an absolute-form one (`GET http://elsewhere/`), which no
  // browser sends to a site, would otherwise get Next.js's redirect to that URL (an open redirect).
  if (!req.url?.startsWith('/')) return void refuse(req, res, 400, 'Bad request');
  if (!admitBody(req, res)) return;
  annotate(req);
  // The recipient's pages go out without Next.js's client runtime (lib/http/script-free-pages.ts).
  if (isScriptFreePage({ method: req.method ?? '', pathname: req.url.split('?')[0] }))
    return void pages.admit(res, () => serveScriptFree({ req, res, handle, readStylesheet }));
  handle(req, res);
});
server.listen(config.PORT, config.HOST, () => {
  console.log(`sealpost: listening on http://${config.HOST}:${config.PORT}${dev ? ' (development)' : ''}`);
});

if (config.SEALPOST_METRICS_PORT !== 'off') {
  const metrics = await startMetricsServer({ host: config.SEALPOST_METRICS_HOST, port: config.SEALPOST_METRICS_PORT });
  console.log(`sealpost: metrics on http://${config.SEALPOST_METRICS_HOST}:${metrics.port}/metrics`);
}

// SIGTERM (an orchestrator scaling in) or SIGINT: stop accepting connections, let the requests
// under way finish, let the outbox worker finish the mails it is sending and hand back the rest
// of its batch, let the relay answer DATA in flight; then exit. Whatever still runs after
// 25 seconds (inside the usual 30-second grace period) is cut off.
let closing = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    console.log(`sealpost: ${signal}: finishing requests and deliveries under way`);
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    void Promise.allSettled([closed, runShutdownHooks()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 25_000).unref();
  });
}
