import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { ROOT, stopChild } from './cli';
import { withTestDatabase } from './installation';

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

export type TServer = { port: number; origin: string; child: ChildProcess; output: () => string; stop(): Promise<void> };

// The production server exactly as `npm start` runs it (scripts/server.mjs on the last build).
// The SMTP relay stays off unless a test asks for a port: many servers run in parallel.
export async function startServer(env: Record<string, string>): Promise<TServer> {
  if (!fs.existsSync(path.join(ROOT, '.next', 'BUILD_ID'))) throw new Error('no build: run `npm run build` first (npm test does)');
  const port = Number(env.PORT ?? (await freePort()));
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'server.mjs')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', SEALPOST_RELAY_PORT: 'off', ...withTestDatabase(env), PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const origin = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    try {
      const r = await fetch(`${origin}/api/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30_000) throw new Error(`server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, origin, child, output: () => out, stop: () => stopChild(child) };
}

export type THttpResponse = { status: number; headers: http.IncomingHttpHeaders; body: string };

// A request with exactly the Host header a browser on that name would send (fetch cannot set it),
// optionally from another loopback address (127.0.0.2, …): a client that is not the proxy.
export function requestAs(
  port: number,
  host: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {},
): Promise<THttpResponse> {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port,
      path,
      method: init.method ?? 'GET',
      headers: { host, ...init.headers },
      localAddress: init.localAddress,
    };
    const req = http.request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

// A file's whole setup (server, sink, tenants and messages through the CLI, a browser) can take
// well over the default hook timeout on a loaded machine; each CLI call is a Node start of its own.
export const SETUP_TIMEOUT_MS = 180_000;
