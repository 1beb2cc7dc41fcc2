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

const app = next({ dev, dir: root, hostname: config.HOST, port: config.PORT });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((req, res) => {
  annotate(req);
  handle(req, res);
});
server.listen(config.PORT, config.HOST, () => {
  console.log(`sealpost: listening on http://${config.HOST}:${config.PORT}${dev ? ' (development)' : ''}`);
});

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    // Requests still running after this long are cut off rather than holding the exit forever.
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
