// Portal benchmark: `npm run bench:portal` (add `-- --lighthouse` for Lighthouse mobile scores,
// `-- --cluster` for two instances on PostgreSQL behind nginx against one). `-- --lighthouse-only`
// signs the readers in and runs only Lighthouse; `--lighthouse-runs=3` runs each page three times
// and reports the median run; `--lighthouse-out=<dir>` keeps the JSON reports there.
//
// The production server (`next start` on the last build) with a throwaway data dir and a real
// SMTP sink on loopback: a tenant, a ~50 KB HTML statement sent with the `sealpost` CLI, and
// readers signed in through the real HTTP flow (landing, passcode request, code from the mail's
// subject, sign-in). GET /m/<id> is then loaded at 32 keep-alive connections and compared, in
// the same run and on the same data, with a bare node:http server doing the same lib work, so
// the ratio holds across machines even when absolute req/s do not. With --cluster, the same load
// on PostgreSQL through nginx against two instances, compared with one of them addressed directly.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, runCli, stopChild } from '../../test/helpers/cli';
import { makeTempDir } from '../../test/helpers/context';
import { startServer, type TServer } from '../../test/helpers/server';
import { startSmtpSink, type TSmtpSink } from '../../test/helpers/smtp-sink';
import { startBareServer } from './bare-server';
import { measureCluster, type TClusterFigures } from './cluster';
import { makeStatementEml } from './fixture';
import { measurePage, type TPageWeight } from './first-load-js';
import { sendThroughCli, signIn, type TReader } from './journey';
import { LIGHTHOUSE_VERSION, medianRun, runLighthouse, type TLighthouseScores } from './lighthouse';
import { runLoad, summarise, type TLoadRound, type TLoadSummary } from './load';
import { timeSteps, type TStepTiming } from './steps';

// The portal against a bare node:http server doing the per-view work the portal did before the
// reader's view was kept (parse + sanitise on every view): at least 1.2 times it.
const TARGET_RATIO = 1.2;
// p99 no more than three times p50 at 32 connections (a queue that stays fair).
const TARGET_P99_OVER_P50 = 3;
const CONNECTIONS = 32;
// Per server: a warm-up (JIT, caches, SQLite pages), then rounds alternating with the other
// server (P B B P P B B P) so drift on this noisy machine falls on both alike. About 55 s of load,
// then 3 s per server at one connection for the latency of a request that waits for none.
const WARMUP_S = 3;
const ROUND_S = 5;
const SINGLE_S = 3;
const ORDER = ['portal', 'bare', 'cached', 'cached', 'bare', 'portal', 'portal', 'bare', 'cached', 'cached', 'bare', 'portal'] as const;
// The recipient's landing, passcode and message pages: at most 100 KB gzip of JavaScript before
// they are interactive, and Lighthouse mobile performance and accessibility of at least 95.
const TARGET_FIRST_LOAD_JS_BYTES = 100 * 1024;
const TARGET_LIGHTHOUSE = 95;
const LIGHTHOUSE_TARGETED = ['performance', 'accessibility'] as const;
// Two instances behind nginx against one of them directly: at least 1.7 times its throughput.
const TARGET_CLUSTER_RATIO = 1.7;
// The cluster's rounds, alternating in the same way: about 45 s of load after a minute's setup.
const CLUSTER_ORDER = ['two', 'one', 'one', 'two', 'two', 'one', 'one', 'two'] as const;
// The per-IP passcode limit is 30 an hour: 8 readers leave room for a second run in the hour
// (the data dir is new each run, so the limit starts afresh anyway).
const READERS = 8;
const SLUG = 'acme';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BARE_MODE = 'bare-server';
const STEPS_MODE = 'time-steps';
const STEP_ITERATIONS = 100;
// Marks a child's answer apart from anything else it prints (pino writes JSON lines too).
const ANSWER = 'sealpost-bench-answer ';

type TTarget = 'portal' | 'bare' | 'cached';

const ms = (n: number) => `${n.toFixed(1).padStart(7)} ms`;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const rps = (n: number) => `${n.toFixed(0).padStart(6)} req/s`;

// The build `next start` serves must be the code in the tree, or the figures describe old code.
const BUILD_SOURCES = [
  'app',
  'lib',
  'public',
  'proxy.ts',
  'instrumentation.ts',
  'next.config.ts',
  'package-lock.json',
  'postcss.config.mjs',
];
const newest = (p: string): number => {
  if (!fs.existsSync(p)) return 0;
  const stat = fs.statSync(p);
  return stat.isDirectory() ? Math.max(stat.mtimeMs, ...fs.readdirSync(p).map((e) => newest(path.join(p, e)))) : stat.mtimeMs;
};
function assertCurrentBuild() {
  const buildId = path.join(ROOT, '.next', 'BUILD_ID');
  if (!fs.existsSync(buildId))
    throw new Error('no Next.js build: run `npm run build` first (the bench serves the production build with `next start`)');
  if (fs.statSync(buildId).mtimeMs < Math.max(...BUILD_SOURCES.map((s) => newest(path.join(ROOT, s))))) {
    throw new Error('the Next.js build is older than the sources: run `npm run build` first, or the figures describe old code');
  }
}

// This script in another process (the bare server, the step timings), which answers with one
// marked JSON line on stdout. The bare server runs apart as `next start` does, so neither shares an
// event loop with autocannon in this process.
async function spawnSelf<T>(mode: string, env: Record<string, string>): Promise<{ answer: T; child: ChildProcess }> {
  // react-server: lib/portal is marked `server-only`, which resolves to nothing under this condition.
  const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', fileURLToPath(import.meta.url), mode], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const answer = await new Promise<T>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith(ANSWER));
      if (line) resolve(JSON.parse(line.slice(ANSWER.length)) as T);
    });
    child.once('exit', (code) => reject(new Error(`${mode} child exited (${code}) before answering`)));
  });
  return { answer, child };
}

function printLoad(label: string, s: TLoadSummary) {
  console.log(
    `  ${label}  ${rps(s.reqPerSec)}   p50 ${ms(s.p50Ms)}   p99 ${ms(s.p99Ms)}   max ${ms(s.maxMs)}   ${kb(s.bytesPerReq)}/response on the wire   rounds ${s.roundsReqPerSec.map((r) => r.toFixed(0)).join('/')} req/s`,
  );
}

// A summary for the JSON line: its rounds under a shorter name.
const forJson = ({ roundsReqPerSec, ...rest }: TLoadSummary) => ({ ...rest, rounds: roundsReqPerSec });

const LIGHTHOUSE_SKIPPED = `skipped (run with --lighthouse; fetches lighthouse@${LIGHTHOUSE_VERSION} with npx on first use)`;
const argValue = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

type TLighthouseTarget = { origin: string; reader: TReader; messagePath: string; outDir: string; runs: number };

// The three recipient pages, `runs` times each (page after page, so drift falls on all alike);
// per page the median run, or why there is none.
async function lighthouseRuns({ origin, reader, messagePath, outDir, runs }: TLighthouseTarget): Promise<TLighthouseScores[] | string> {
  try {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
    const pages = [
      { page: 'landing', url: `${origin}${reader.landingPath}` },
      // The passcode page as the landing page's form leaves the reader on it (a code was sent).
      { page: 'passcode', url: `${origin}${reader.verifyPath}` },
      { page: 'message', url: `${origin}${messagePath}`, cookie: reader.cookie },
    ];
    const all = new Map<string, TLighthouseScores[]>(pages.map((p) => [p.page, []]));
    for (let run = 1; run <= runs; run++) {
      for (const p of pages) all.get(p.page)!.push(await runLighthouse({ ...p, outDir, chromePath: CHROMIUM, run }));
    }
    if (runs > 1) {
      for (const [page, list] of all)
        console.log(`  ${page.padEnd(9)} performance by run: ${list.map((l) => l.scores.performance ?? '?').join(' / ')}`);
    }
    return pages.map((p) => medianRun(all.get(p.page)!));
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
}

function printLighthouse(lighthouse: TLighthouseScores[] | string) {
  console.log(
    `\nLighthouse mobile${typeof lighthouse === 'string' ? `: ${lighthouse}` : ` (lighthouse ${LIGHTHOUSE_VERSION}, ${CHROMIUM})`}`,
  );
  if (typeof lighthouse === 'string') return;
  const msOf = (n: number | null) => `${n?.toFixed(0) ?? '?'} ms`;
  for (const l of lighthouse) {
    const s = Object.entries(l.scores)
      .map(([k, v]) => `${k} ${v ?? '?'}`)
      .join(', ');
    console.log(
      `  ${l.page.padEnd(9)} ${s}   FCP ${msOf(l.fcpMs)}, LCP ${msOf(l.lcpMs)}, TBT ${msOf(l.tbtMs)}, CLS ${l.cls?.toFixed(3) ?? '?'}, SI ${msOf(l.speedIndexMs)}`,
    );
    if (l.shortfalls.length) console.log(`            short of 0.9: ${l.shortfalls.join(', ')}`);
    for (const e of l.consoleErrors) console.log(`            console error: ${e}`);
  }
}

const isLighthouseMet = (lighthouse: TLighthouseScores[]) =>
  lighthouse.every((l) => LIGHTHOUSE_TARGETED.every((c) => (l.scores[c] ?? 0) >= TARGET_LIGHTHOUSE));

function printLighthouseVerdict(lighthouse: TLighthouseScores[]) {
  console.log(
    `${isLighthouseMet(lighthouse) ? 'PASS' : 'FAIL'} Lighthouse mobile: ${lighthouse.map((l) => `${l.page} ${LIGHTHOUSE_TARGETED.map((c) => `${c} ${l.scores[c] ?? '?'}`).join(' / ')}`).join('; ')} (target >= ${TARGET_LIGHTHOUSE} each)`,
  );
}

function printWeights(weights: TPageWeight[]) {
  console.log('\nFirst-load JavaScript of the recipient pages (gzip at zlib default, as served; each chunk once per page)');
  for (const w of weights) {
    console.log(
      `  ${w.page.padEnd(9)} ${kb(w.scriptGzipBytes).padStart(9)} gzip in ${String(w.scripts.length).padStart(2)} scripts (${kb(w.scriptBytes)} raw)` +
        `   + inline scripts ${kb(w.inlineScriptGzipBytes)} gzip (${kb(w.inlineScriptBytes)} raw)   HTML ${kb(w.htmlGzipBytes)} gzip (${kb(w.htmlBytes)} raw)   ${w.forms} form(s)`,
    );
  }
}

async function main() {
  const isLighthouseOnly = process.argv.includes('--lighthouse-only');
  const withLighthouse = isLighthouseOnly || process.argv.includes('--lighthouse');
  const lighthouseRunCount = Math.max(1, Number(argValue('lighthouse-runs') ?? 1) || 1);
  const lighthouseOut = argValue('lighthouse-out');
  if (lighthouseOut) fs.mkdirSync(lighthouseOut, { recursive: true });
  const withCluster = process.argv.includes('--cluster');
  assertCurrentBuild();
  console.log(`Sealpost portal bench: node ${process.version}, ${os.platform()} ${os.arch()}, ${os.availableParallelism()} CPUs`);

  const dataDir = makeTempDir('sealpost-bench-portal-');
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => fs.rmSync(dataDir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().then(() => process.exit(130)));

  try {
    const sink: TSmtpSink = await startSmtpSink();
    cleanups.push(() => sink.close());
    // LOG_LEVEL stays at the production default (info); the outbox polls often so sign-in is quick.
    const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_DEMO_TENANT: 'off', SEALPOST_OUTBOX_POLL_MS: '200' };
    const server: TServer = await startServer(env);
    cleanups.push(() => server.stop());
    const cliEnv = { ...env, PORT: String(server.port) };
    const host = `${SLUG}.localhost:${server.port}`;

    const created = runCli(['tenant', 'create', SLUG, '--name', 'Acme Bank', '--domain', 'acme.example'], cliEnv);
    if (created.status !== 0) throw new Error(`tenant create failed: ${created.stderr}`);
    const readers = Array.from({ length: READERS }, (_, i) => `reader${i + 1}@example.org`);
    const { eml, htmlBytes } = await makeStatementEml({ to: readers });
    const messageId = await sendThroughCli({ eml, slug: SLUG, to: readers, dir: dataDir, cliEnv, sink });
    const signedIn: TReader[] = [];
    for (const address of readers) signedIn.push(await signIn({ port: server.port, host, sink }, address, messageId));
    const cookies = signedIn.map((r) => r.cookie);
    console.log(`Message: ${kb(htmlBytes)} of HTML (${kb(eml.length)} .eml with text part and inline logo), to ${READERS} recipients`);
    console.log(
      `Readers: ${READERS} signed in through landing → passcode → code from the mail subject → sign-in; ${CONNECTIONS} connections share their ${READERS} session cookies (${CONNECTIONS / READERS} each)`,
    );

    const lighthouseTarget: TLighthouseTarget = {
      origin: `http://${host}`,
      reader: signedIn[0]!,
      messagePath: `/m/${messageId}`,
      outDir: lighthouseOut ?? dataDir,
      runs: lighthouseRunCount,
    };
    if (isLighthouseOnly) {
      const lighthouse = await lighthouseRuns(lighthouseTarget);
      printLighthouse(lighthouse);
      if (typeof lighthouse !== 'string') printLighthouseVerdict(lighthouse);
      console.log(JSON.stringify({ node: process.version, cpus: os.availableParallelism(), lighthouse }));
      return;
    }

    const bareChild = await spawnSelf<{ port: number }>(BARE_MODE, { ...env, SEALPOST_BENCH_BARE: 'render' });
    cleanups.push(() => stopChild(bareChild.child));
    const bare = { port: bareChild.answer.port };
    const cachedChild = await spawnSelf<{ port: number }>(BARE_MODE, { ...env, SEALPOST_BENCH_BARE: 'cached' });
    cleanups.push(() => stopChild(cachedChild.child));

    const path = `/m/${messageId}`;
    const portOf = (t: TTarget) => (t === 'portal' ? server.port : t === 'bare' ? bare.port : cachedChild.answer.port);
    const load = (t: TTarget, durationS: number) => runLoad({ port: portOf(t), host, path, cookies, connections: CONNECTIONS, durationS });
    const loadOne = async (t: TTarget) => {
      const r = await runLoad({ port: portOf(t), host, path, cookies, connections: 1, durationS: SINGLE_S });
      if (r.non2xx || r.errors) throw new Error(`${t} at 1 connection: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      return r;
    };
    const rounds: Record<TTarget, TLoadRound[]> = { portal: [], bare: [], cached: [] };
    for (const t of ['portal', 'bare', 'cached'] as const) {
      const warm = await load(t, WARMUP_S);
      if (warm.non2xx || warm.errors) throw new Error(`${t} warm-up: ${warm.non2xx} non-2xx answers, ${warm.errors} errors`);
    }
    for (const t of ORDER) rounds[t].push(await load(t, ROUND_S));
    const portal = summarise(rounds.portal);
    const baseline = summarise(rounds.bare);
    const cached = summarise(rounds.cached);
    for (const [t, s] of [
      ['portal', portal],
      ['bare', baseline],
      ['cached', cached],
    ] as const) {
      // A page that answers 401, 403 or 500 fast would flatter the figures: any is a broken run.
      if (s.non2xx || s.errors) throw new Error(`${t}: ${s.non2xx} non-2xx answers and ${s.errors} connection errors under load`);
    }
    // One reader at a time: the service time itself, without 31 requests queued ahead.
    const single = { portal: summarise([await loadOne('portal')]), bare: summarise([await loadOne('bare')]) };
    console.log(
      `\nGET /m/<id> at ${CONNECTIONS} connections, ${ORDER.length / 2} rounds of ${ROUND_S} s each after a ${WARMUP_S} s warm-up (all answers 200)`,
    );
    printLoad('portal (next start)', portal);
    printLoad('bare, render a view', baseline);
    printLoad('bare, kept view    ', cached);
    console.log(
      `At 1 connection (${SINGLE_S} s each): portal p50 ${single.portal.p50Ms.toFixed(1)} ms, p99 ${single.portal.p99Ms.toFixed(1)} ms (${single.portal.reqPerSec.toFixed(0)} req/s); bare p50 ${single.bare.p50Ms.toFixed(1)} ms, p99 ${single.bare.p99Ms.toFixed(1)} ms (${single.bare.reqPerSec.toFixed(0)} req/s)`,
    );
    const ratio = portal.reqPerSec / baseline.reqPerSec;

    const cache = new Map<string, Buffer>();
    const reader = signedIn[0]!;
    const weights = [
      await measurePage({ port: server.port, host, page: 'landing', path: reader.landingPath, cache }),
      await measurePage({ port: server.port, host, page: 'passcode', path: reader.verifyPath, cache }),
      await measurePage({ port: server.port, host, page: 'message', path, cookie: reader.cookie, cache }),
      // Its one script is inline: the attachment check (lib/http/script-free-pages.ts).
      await measurePage({ port: server.port, host, page: 'reply', path: `${path}/reply`, cookie: reader.cookie, cache }),
    ];
    printWeights(weights);
    console.log(
      "  Without JavaScript: the sign-in above used only these pages' HTML forms and redirects, and every page renders on the server.",
    );
    for (const w of weights) if (w.status !== 200) throw new Error(`${w.page} page: HTTP ${w.status}`);

    // The servers are idle now: time the page's steps one by one for the why behind the figures.
    const stepsEnv = {
      ...env,
      SEALPOST_BENCH_STEPS: JSON.stringify({
        host,
        messageId,
        sessionValue: reader.cookie.split('=')[1]!,
        pageBytes: weights[2]!.htmlBytes,
        iterations: STEP_ITERATIONS,
      }),
    };
    const steps = (await spawnSelf<TStepTiming[]>(STEPS_MODE, stepsEnv)).answer;
    console.log(
      `\nWhere one view's time goes (each step alone, sequential, mean of ${STEP_ITERATIONS}; sum ${steps
        .filter((s) => !s.step.startsWith('toMessageView'))
        .reduce((a, s) => a + s.meanMs, 0)
        .toFixed(1)} ms without the toMessageView line)`,
    );
    for (const s of steps) console.log(`  ${s.step.padEnd(42)} ${ms(s.meanMs)}`);

    const lighthouse = withLighthouse ? await lighthouseRuns(lighthouseTarget) : LIGHTHOUSE_SKIPPED;
    printLighthouse(lighthouse);

    // The cluster last: its instances, nginx and database come and go while the servers above idle.
    let cluster: TClusterFigures | string = 'skipped (run with --cluster; needs PostgreSQL on 127.0.0.1:5432 and nginx)';
    if (withCluster) {
      cluster = await measureCluster({
        slug: SLUG,
        readers: READERS,
        connections: CONNECTIONS,
        warmupS: WARMUP_S,
        roundS: ROUND_S,
        order: CLUSTER_ORDER,
        onCleanup: (undo) => cleanups.push(undo),
      });
    }
    console.log(
      typeof cluster === 'string'
        ? `\nCluster: ${cluster}`
        : `\nCluster on PostgreSQL (scripts/cluster.mjs: 2 \`npm start\` instances, workers on, Debian nginx round robin): GET /m/<id> at ${CONNECTIONS} connections, ${CLUSTER_ORDER.length / 2} rounds of ${ROUND_S} s each after a ${WARMUP_S} s warm-up (all answers 200); same database, message and ${READERS} sessions (signed in through nginx)`,
    );
    if (typeof cluster !== 'string') {
      printLoad('2 instances, nginx ', cluster.two);
      printLoad('1 instance, direct ', cluster.one);
      console.log(`  through nginx, views answered by each instance: ${cluster.servedThroughNginx.join(' / ')}`);
    }

    const verdicts = {
      firstLoadJs: weights.every((w) => w.scriptGzipBytes + w.inlineScriptGzipBytes <= TARGET_FIRST_LOAD_JS_BYTES),
      ...(typeof lighthouse === 'string' ? {} : { lighthouse: isLighthouseMet(lighthouse) }),
      ratio: ratio >= TARGET_RATIO,
      p99: portal.p99Ms <= TARGET_P99_OVER_P50 * portal.p50Ms,
      ...(typeof cluster === 'string'
        ? {}
        : {
            clusterRatio: cluster.ratio >= TARGET_CLUSTER_RATIO,
            clusterP99: [cluster.two, cluster.one].every((s) => s.p99Ms <= TARGET_P99_OVER_P50 * s.p50Ms),
          }),
    };
    console.log('');
    console.log(
      `${verdicts.firstLoadJs ? 'PASS' : 'FAIL'} first-load JavaScript: ${weights.map((w) => `${w.page} ${kb(w.scriptGzipBytes + w.inlineScriptGzipBytes)}`).join(', ')} gzip, inline scripts included (target <= ${kb(TARGET_FIRST_LOAD_JS_BYTES)} each)`,
    );
    if (typeof lighthouse !== 'string') printLighthouseVerdict(lighthouse);
    console.log(
      `${verdicts.ratio ? 'PASS' : 'FAIL'} portal throughput: ${ratio.toFixed(3)} of the bare server rendering each view (${portal.reqPerSec.toFixed(0)} / ${baseline.reqPerSec.toFixed(0)} req/s; target >= ${TARGET_RATIO}); ${(portal.reqPerSec / cached.reqPerSec).toFixed(3)} of the bare server with the kept view (${cached.reqPerSec.toFixed(0)} req/s)`,
    );
    console.log(
      `${verdicts.p99 ? 'PASS' : 'FAIL'} portal p99 latency: ${portal.p99Ms.toFixed(1)} ms at ${CONNECTIONS} connections, ${(portal.p99Ms / portal.p50Ms).toFixed(2)} × p50 (target <= ${TARGET_P99_OVER_P50} × p50)`,
    );

    if (typeof cluster !== 'string') {
      console.log(
        `${verdicts.clusterRatio ? 'PASS' : 'FAIL'} cluster throughput: 2 instances through nginx ${cluster.ratio.toFixed(3)} × 1 instance directly (${cluster.two.reqPerSec.toFixed(0)} / ${cluster.one.reqPerSec.toFixed(0)} req/s; target >= ${TARGET_CLUSTER_RATIO}; ${os.availableParallelism()} CPUs for instances, nginx and autocannon alike)`,
      );
      console.log(
        `${verdicts.clusterP99 ? 'PASS' : 'FAIL'} cluster p99 latency: 2 instances ${cluster.two.p99Ms.toFixed(1)} ms, ${(cluster.two.p99Ms / cluster.two.p50Ms).toFixed(2)} × p50; 1 instance ${cluster.one.p99Ms.toFixed(1)} ms, ${(cluster.one.p99Ms / cluster.one.p50Ms).toFixed(2)} × p50 (target <= ${TARGET_P99_OVER_P50} × p50)`,
      );
    }

    // One machine-readable line, last, for CI or comparisons between runs.
    console.log(
      JSON.stringify({
        node: process.version,
        cpus: os.availableParallelism(),
        connections: CONNECTIONS,
        readers: READERS,
        htmlBytes,
        targets: {
          ratio: TARGET_RATIO,
          p99OverP50: TARGET_P99_OVER_P50,
          clusterRatio: TARGET_CLUSTER_RATIO,
          firstLoadJsBytes: TARGET_FIRST_LOAD_JS_BYTES,
          lighthouse: TARGET_LIGHTHOUSE,
        },
        portal: forJson(portal),
        bare: forJson(baseline),
        cached: forJson(cached),
        ratio,
        singleConnection: {
          portal: { p50Ms: single.portal.p50Ms, p99Ms: single.portal.p99Ms, reqPerSec: single.portal.reqPerSec },
          bare: { p50Ms: single.bare.p50Ms, p99Ms: single.bare.p99Ms, reqPerSec: single.bare.reqPerSec },
        },
        firstLoadJs: Object.fromEntries(
          weights.map((w) => [
            w.page,
            { gzip: w.scriptGzipBytes, raw: w.scriptBytes, scripts: w.scripts.length, inlineGzip: w.inlineScriptGzipBytes },
          ]),
        ),
        steps: Object.fromEntries(steps.map((s) => [s.step, s.meanMs])),
        lighthouse,
        cluster:
          typeof cluster === 'string'
            ? cluster
            : {
                two: forJson(cluster.two),
                one: forJson(cluster.one),
                ratio: cluster.ratio,
                servedThroughNginx: cluster.servedThroughNginx,
              },
        verdicts,
      }),
    );
  } finally {
    await cleanup();
  }
}

if (process.argv[2] === STEPS_MODE) {
  console.log(ANSWER + JSON.stringify(await timeSteps(JSON.parse(process.env.SEALPOST_BENCH_STEPS!))));
  process.exit(0);
} else if (process.argv[2] === BARE_MODE) {
  // Child: serve until the parent stops us; the port goes to the parent as one JSON line.
  const bare = await startBareServer({ mode: process.env.SEALPOST_BENCH_BARE === 'cached' ? 'cached' : 'render' });
  console.log(ANSWER + JSON.stringify({ port: bare.port }));
  process.once('SIGTERM', () => void bare.close().then(() => process.exit(0)));
} else {
  // Machines are noisy: a missed target is reported, not turned into a failing exit code; a broken
  // run (non-2xx answers, a failed sign-in, no build) exits 1.
  try {
    await main();
  } catch (error) {
    console.error(`\nbench:portal failed: ${(error as Error).stack ?? error}`);
    process.exitCode = 1;
  }
}
