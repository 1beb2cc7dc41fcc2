import fs from 'node:fs';
// @ts-expect-error: a plain ES module of the project's scripts (no types of its own)
import { startCluster } from '../../scripts/cluster.mjs';
import { runCli } from '../../test/helpers/cli';
import { createPgDatabase, makeTempDir } from '../../test/helpers/context';
import { startSmtpSink } from '../../test/helpers/smtp-sink';
import { makeStatementEml } from './fixture';
import { sendThroughCli, signIn } from './journey';
import { runLoad, summarise, type TLoadRound, type TLoadSummary } from './load';

type TNode = { port: number; metricsPort: number };
type TCluster = { port: number; nodes: TNode[]; stop(): Promise<void> };

export type TClusterTarget = 'two' | 'one';

export type TClusterFigures = {
  // Two instances through nginx, and instance 1 of the same cluster addressed directly.
  two: TLoadSummary;
  one: TLoadSummary;
  ratio: number;
  // GET /m/<id> answered 200 by each instance during the rounds through nginx (its /metrics).
  servedThroughNginx: number[];
};

export type MeasureClusterOptions = {
  slug: string;
  readers: number;
  connections: number;
  warmupS: number;
  roundS: number;
  order: readonly TClusterTarget[];
  // Called with each thing to undo, in the order they are made; the caller undoes them in reverse.
  onCleanup: (undo: () => Promise<unknown> | unknown) => void;
};

// Readers connect from here, so that they are not the proxy (nginx, on 127.0.0.1, is the trusted one)
// and the per-IP passcode limit counts the address nginx forwards.
const READER_ADDRESS = '127.0.0.2';
const VIEWS_200 =
  /^sealpost_http_request_duration_seconds_count\{(?=[^}]*route="\/m\/:id")(?=[^}]*method="GET")(?=[^}]*status="200")[^}]*\} (\d+)/gm;

async function viewsServed(node: TNode): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
  return [...text.matchAll(VIEWS_200)].reduce((s, m) => s + Number(m[1]), 0);
}

// The same page under the same load on PostgreSQL, scaled out: `scripts/cluster.mjs` starts two
// `npm start` instances (workers on) on a fresh database and Debian's nginx in front (round robin).
// A statement is sent with `sealpost send`, readers sign in through nginx, then GET /m/<id> is loaded
// through nginx and, in alternating rounds, on one of the two instances directly: same database,
// same message, same sessions.
export async function measureCluster({
  slug,
  readers,
  connections,
  warmupS,
  roundS,
  order,
  onCleanup,
}: MeasureClusterOptions): Promise<TClusterFigures> {
  const dataDir = makeTempDir('sealpost-bench-cluster-');
  onCleanup(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const sink = await startSmtpSink();
  onCleanup(() => sink.close());
  const database = await createPgDatabase('sealpost_bench');
  onCleanup(() => database.drop());
  const env = {
    DATABASE_URL: database.url,
    SEALPOST_DATA_DIR: dataDir,
    SMTP_URL: sink.url,
    SEALPOST_DEMO_TENANT: 'off',
    SEALPOST_OUTBOX_POLL_MS: '200',
    LOG_LEVEL: 'info',
  };
  const cluster: TCluster = await startCluster({ instances: 2, env });
  onCleanup(() => cluster.stop());
  const cliEnv = { ...env, SEALPOST_PUBLIC_PORT: String(cluster.port) };
  const host = `${slug}.localhost:${cluster.port}`;

  const created = runCli(['tenant', 'create', slug, '--name', 'Acme Bank', '--domain', 'acme.example'], cliEnv);
  if (created.status !== 0) throw new Error(`tenant create on PostgreSQL failed: ${created.stderr}`);
  const to = Array.from({ length: readers }, (_, i) => `reader${i + 1}@example.org`);
  const { eml } = await makeStatementEml({ to });
  const messageId = await sendThroughCli({ eml, slug, to, dir: dataDir, cliEnv, sink });
  const cookies: string[] = [];
  for (const address of to) {
    cookies.push((await signIn({ port: cluster.port, host, sink, localAddress: READER_ADDRESS }, address, messageId)).cookie);
  }

  const path = `/m/${messageId}`;
  const node = cluster.nodes[0]!;
  const portOf = (t: TClusterTarget) => (t === 'two' ? cluster.port : node.port);
  const load = async (t: TClusterTarget, durationS: number) => {
    const r = await runLoad({ port: portOf(t), host, path, cookies, connections, durationS });
    // A page that answers 401, 403 or 500 fast would flatter the figures: any is a broken run.
    if (r.non2xx || r.errors) throw new Error(`cluster, ${t}: ${r.non2xx} non-2xx answers and ${r.errors} connection errors`);
    return r;
  };
  for (const t of ['two', 'one'] as const) await load(t, warmupS);
  const rounds: Record<TClusterTarget, TLoadRound[]> = { two: [], one: [] };
  const servedThroughNginx = cluster.nodes.map(() => 0);
  for (const t of order) {
    const before = await Promise.all(cluster.nodes.map(viewsServed));
    rounds[t].push(await load(t, roundS));
    if (t !== 'two') continue;
    const after = await Promise.all(cluster.nodes.map(viewsServed));
    for (const [i, n] of after.entries()) servedThroughNginx[i]! += n - before[i]!;
  }
  const two = summarise(rounds.two);
  const one = summarise(rounds.one);
  return { two, one, ratio: two.reqPerSec / one.reqPerSec, servedThroughNginx };
}
