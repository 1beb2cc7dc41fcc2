// `./run cluster` (npm run cluster): Sealpost scaled out on one machine, as an operator runs it on
// several: N identical instances of `npm start` (workers on) against one PostgreSQL database,
// behind Debian's nginx (round robin, a temporary configuration of its own, on loopback), with
// the instances trusting nginx's X-Forwarded-For. The tests start the same cluster through
// startCluster().
//
//   ./run cluster [--instances 2] [--port 3457]
//   DATABASE_URL=postgres://… picks the database (default: database sealpost_cluster on
//   127.0.0.1:5432, created when missing).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

const waitUntil = async (what, check, timeoutMs, output) => {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not come up:\n${output?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const isReady = async (port) => (await fetch(`http://127.0.0.1:${port}/api/ready`)).ok;

// nginx from a temporary prefix: its pid, logs and temporary files there, nothing of the system's.
// X-Sealpost-Upstream says which instance answered (for the tests; harmless otherwise).
function nginxConfig({ dir, port, upstreams }) {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # Sealpost bounds every request body itself (scripts/server.mjs); a message and its envelope fit.
  client_max_body_size 50m;
  proxy_request_buffering off;
  upstream sealpost {
${upstreams.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://sealpost;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # Under a burst a request may queue a while at an instance: answered late, not cut off at 60 s.
      proxy_read_timeout 300s;
      proxy_send_timeout 300s;
      add_header X-Sealpost-Upstream $upstream_addr always;
    }
  }
}
`;
}

function startInstance({ env, port, metricsPort, log }) {
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'server.mjs')], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), SEALPOST_METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d) => {
    output = (output + d).slice(-200_000);
    log?.(String(d));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { port, metricsPort, child, output: () => output };
}

const stopChild = (child, signal = 'SIGTERM') =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });

// Starts the instances (all at once, as an orchestrator would) and nginx in front of them.
// `env` is every instance's environment (DATABASE_URL, SEALPOST_DATA_DIR, SMTP_URL, …).
export async function startCluster({ instances = 2, env, port, log }) {
  if (!fs.existsSync(NGINX))
    throw new Error(`nginx not found at ${NGINX}: ./run test and ./run cluster install it (apt-get install nginx)`);
  const nginxPort = port ?? (await freePort());
  const common = {
    HOST: '127.0.0.1',
    SEALPOST_TRUSTED_PROXIES: '127.0.0.1',
    SEALPOST_PUBLIC_PORT: String(nginxPort),
    SEALPOST_RELAY_PORT: 'off',
    SEALPOST_WORKER: 'on',
    ...env,
  };
  const nodes = [];
  for (let i = 0; i < instances; i += 1) {
    nodes.push(startInstance({ env: common, port: await freePort(), metricsPort: await freePort(), log }));
  }
  // An instance or nginx that does not come up: stop what did, so the caller's process can exit.
  const stopNodes = () => Promise.all(nodes.map((n) => stopChild(n.child)));
  try {
    for (const node of nodes) await waitUntil(`instance on ${node.port}`, () => isReady(node.port), 60_000, node.output);
  } catch (error) {
    await stopNodes();
    throw error;
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-nginx-'));
  // nginx's workers run as an unprivileged user when started as root: they need the prefix.
  fs.chmodSync(dir, 0o755);
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, sub), { mode: 0o777 });
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.chmodSync(path.join(dir, sub), 0o777);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig({ dir, port: nginxPort, upstreams: nodes.map((n) => n.port) }));
  const nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let nginxOutput = '';
  nginx.stdout.on('data', (d) => (nginxOutput += d));
  nginx.stderr.on('data', (d) => (nginxOutput += d));
  const errorLog = () =>
    `${nginxOutput}${fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`;
  const stop = async () => {
    await stopChild(nginx);
    await stopNodes();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      'nginx',
      async () => nginx.exitCode === null && (await fetch(`http://127.0.0.1:${nginxPort}/api/health`)).ok,
      20_000,
      errorLog,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    port: nginxPort,
    origin: `http://127.0.0.1:${nginxPort}`,
    nodes,
    nginxLog: errorLog,
    stop,
  };
}

async function ensureDatabase(url) {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '')}"`);
  } finally {
    await admin.end();
  }
}

async function main() {
  const { values } = parseArgs({ options: { instances: { type: 'string', default: '2' }, port: { type: 'string', default: '3457' } } });
  const databaseUrl = process.env.DATABASE_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/sealpost_cluster`;
  await ensureDatabase(databaseUrl);
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'start.mjs'), '--build-only'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const dataDir = process.env.SEALPOST_DATA_DIR ?? path.join(root, 'data', 'cluster');
  const cluster = await startCluster({
    instances: Number(values.instances),
    port: Number(values.port),
    env: { DATABASE_URL: databaseUrl, SEALPOST_DATA_DIR: dataDir },
    log: (line) => process.stdout.write(line),
  });
  console.log(`sealpost cluster: nginx on http://localhost:${cluster.port} (try http://demo.localhost:${cluster.port})`);
  for (const n of cluster.nodes) console.log(`  instance 127.0.0.1:${n.port}, metrics http://127.0.0.1:${n.metricsPort}/metrics`);
  console.log(`  database ${databaseUrl.replace(/\/\/[^@]*@/, '//')}; Ctrl-C stops everything`);
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void cluster.stop().then(() => process.exit(0));
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
