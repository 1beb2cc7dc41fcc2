import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { maxEnvelopeChars, openEnvelopeWithKey, readEnvelopeHeader, sealEnvelope } from '../../lib/envelope/envelope';
import { makeMime, newContext, requireGc } from './fixtures';

export const SEAL_FIXTURE_MODE = 'seal-fixture';
export const OPEN_RSS_MODE = 'open-rss';

export type OpenRssResult = {
  bytes: number;
  tokenChars: number;
  baselineRss: number;
  sampledPeakRss: number;
  samples: number;
  // Kernel high-water mark (getrusage maxRSS) after opening, in bytes; null when the open did
  // not raise it, so it speaks for something else (the parent: see measureOpenRss).
  maxRss: number | null;
  hwmReset: boolean;
  peakRss: number;
  peakAboveBaseline: number;
  durationMs: number;
};

// The sampler lives on its own thread: opening is synchronous work and would starve
// a setInterval on the main thread exactly while memory peaks. RSS is per process, so a worker
// sees the main thread's allocations.
const SAMPLER = `
const { parentPort } = require('node:worker_threads');
let peak = 0, count = 0;
const sample = () => { const rss = process.memoryUsage.rss(); count++; if (rss > peak) peak = rss; };
const timer = setInterval(sample, 1);
parentPort.on('message', (msg) => {
  if (msg === 'reset') { peak = 0; count = 0; sample(); parentPort.postMessage('ready'); return; }
  sample(); clearInterval(timer); parentPort.postMessage({ peak, count });
});
`;

export function startSampler() {
  const worker = new Worker(SAMPLER, { eval: true, execArgv: [] });
  const next = () => new Promise<unknown>((resolve) => worker.once('message', resolve));
  return {
    reset: async () => {
      const ready = next();
      worker.postMessage('reset');
      await ready;
    },
    stop: async () => {
      const done = next();
      worker.postMessage('stop');
      const result = (await done) as { peak: number; count: number };
      await worker.terminate();
      return result;
    },
  };
}

// getrusage's maxRSS is a lifetime high-water mark that would otherwise include reading the
// fixture. Linux lets a process reset it to the current RSS (clear_refs "5", since 4.0).
function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const maxRssBytes = () => process.resourceUsage().maxRSS * 1024;

type Fixture = { token: string; tenantId: string; contentKey: string; bytes: number };
const fixturePath = (dir: string) => path.join(dir, 'envelope.json');

// First child: seals the fixture and exits. Sealing in the measuring process would leave
// sealing's garbage in resident heap pages that the open then reuses, hiding most of its cost.
export async function sealFixtureChild(bytes: number, dir: string): Promise<void> {
  const { contentKey, messageId, tenantId } = newContext();
  const token = await sealEnvelope({ mime: makeMime(bytes), messageId, tenantId, contentKey });
  const fixture: Fixture = { token, tenantId, contentKey: contentKey.toString('hex'), bytes };
  writeFileSync(fixturePath(dir), JSON.stringify(fixture));
}

// Second child: reads the token the way a server gets it (a JSON body), settles, then opens
// once while watching RSS.
export async function openRssChild(dir: string): Promise<OpenRssResult> {
  const gc = requireGc();
  const fixture = JSON.parse(readFileSync(fixturePath(dir), 'utf8')) as Fixture;
  const { token, tenantId, bytes } = fixture;
  const contentKey = Buffer.from(fixture.contentKey, 'hex');
  const maxChars = maxEnvelopeChars(bytes);

  const sampler = startSampler();
  // Two collections plus a pause let V8 and the allocator hand the file buffers back, so the
  // baseline is the process holding just the token.
  gc();
  await sleep(50);
  gc();
  await sleep(50);
  const baselineRss = process.memoryUsage.rss();
  const hwmReset = resetHighWaterMark();
  const maxRssBefore = maxRssBytes();
  await sampler.reset();

  const start = performance.now();
  const header = readEnvelopeHeader({ token, tenantId, maxChars });
  const plaintext = await openEnvelopeWithKey({ token, header, contentKey });
  const durationMs = performance.now() - start;
  const afterRss = process.memoryUsage.rss();
  const { peak, count } = await sampler.stop();
  const maxRssAfter = maxRssBytes();
  if (plaintext.byteLength !== bytes) throw new Error('opened envelope has the wrong size');

  const maxRss = maxRssAfter > maxRssBefore ? maxRssAfter : null;
  const peakRss = Math.max(peak, afterRss, maxRss ?? 0);
  return {
    bytes,
    tokenChars: token.length,
    baselineRss,
    sampledPeakRss: Math.max(peak, afterRss),
    samples: count,
    maxRss,
    hwmReset,
    peakRss,
    peakAboveBaseline: peakRss - baselineRss,
    durationMs,
  };
}

function runChild(scriptPath: string, args: string[]): Promise<string> {
  const execArgv = process.execArgv.includes('--expose-gc') ? process.execArgv : ['--expose-gc', ...process.execArgv];
  const child = spawn(process.execPath, [...execArgv, scriptPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0]} child exited with ${code}: ${out}`))));
  });
}

// Parent side. A spawned child inherits the parent's RSS high-water mark at exec time (Linux
// carries it into getrusage), so call this before the parent allocates large buffers.
export async function measureOpenRss(scriptPath: string, bytes: number): Promise<OpenRssResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-bench-'));
  try {
    await runChild(scriptPath, [SEAL_FIXTURE_MODE, String(bytes), dir]);
    const out = await runChild(scriptPath, [OPEN_RSS_MODE, dir]);
    return JSON.parse(out.trim().split('\n').pop() ?? '') as OpenRssResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
