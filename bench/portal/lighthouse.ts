import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Pinned so runs compare; fetched by npx on first use (about 180 MB of dependencies, which is why
// it is not a devDependency and runs only with --lighthouse).
export const LIGHTHOUSE_VERSION = '13.5.0';
const CATEGORIES = ['performance', 'accessibility', 'best-practices'] as const;
// Debian's Chromium (no browser download here), headless, and nothing in the background that
// would wait on the internet: the only network is loopback.
const CHROME_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-dev-shm-usage',
];

export type TLighthouseScores = {
  page: string;
  scores: Record<string, number | null>;
  fcpMs: number | null;
  lcpMs: number | null;
  tbtMs: number | null;
  cls: number | null;
  speedIndexMs: number | null;
  // Scored audits of these categories that fell short, by id: where the points went.
  shortfalls: string[];
  consoleErrors: string[];
};

// run: which of several runs of the same page this is (names the report file apart).
export type RunLighthouseOptions = {
  page: string;
  url: string;
  cookie?: string;
  outDir: string;
  chromePath: string;
  run?: number;
  timeoutMs?: number;
};

// One Lighthouse mobile run (its default: Moto G power emulation, simulated slow 4G) through the
// lighthouse CLI. The tenant host is a *.localhost name, which Chromium resolves to loopback.
export async function runLighthouse({
  page,
  url,
  cookie,
  outDir,
  chromePath,
  run = 1,
  timeoutMs = 120_000,
}: RunLighthouseOptions): Promise<TLighthouseScores> {
  const report = path.join(outDir, `lighthouse-${page}-${run}.json`);
  const args = [
    '--yes',
    `lighthouse@${LIGHTHOUSE_VERSION}`,
    url,
    '--output=json',
    `--output-path=${report}`,
    '--quiet',
    `--only-categories=${CATEGORIES.join(',')}`,
    `--chrome-flags=${CHROME_FLAGS.join(' ')}`,
    ...(cookie ? [`--extra-headers=${JSON.stringify({ Cookie: cookie })}`] : []),
  ];
  const child = spawn('npx', args, { env: { ...process.env, CHROME_PATH: chromePath }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  // Its own process group: a timeout ends npx, lighthouse and the Chromium it launched together.
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0 || !fs.existsSync(report)) throw new Error(`lighthouse exited ${code}: ${out.trim().split('\n').slice(-5).join(' | ')}`);
  const lhr = JSON.parse(fs.readFileSync(report, 'utf8'));
  if (lhr.runtimeError) throw new Error(`lighthouse: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const audit = (id: string) => (typeof lhr.audits?.[id]?.numericValue === 'number' ? (lhr.audits[id].numericValue as number) : null);
  const shortfalls = CATEGORIES.flatMap((c) => (lhr.categories?.[c]?.auditRefs ?? []) as { id: string; weight: number }[])
    .filter((ref) => ref.weight > 0 && typeof lhr.audits?.[ref.id]?.score === 'number' && lhr.audits[ref.id].score < 0.9)
    .map((ref) => ref.id);
  // The console errors themselves (a missing favicon, a blocked frame request …): short, no URLs' queries.
  const consoleErrors = (
    (lhr.audits?.['errors-in-console']?.details?.items ?? []) as { description?: string; sourceLocation?: { url?: string } }[]
  ).map(
    (i) =>
      `${String(i.description ?? '').slice(0, 100)}${i.sourceLocation?.url ? ` (${i.sourceLocation.url.replace(/[?#].*$/, '').replace(/^https?:\/\/[^/]+/, '')})` : ''}`,
  );
  return {
    page,
    scores: Object.fromEntries(
      CATEGORIES.map((c) => [c, typeof lhr.categories?.[c]?.score === 'number' ? Math.round(lhr.categories[c].score * 100) : null]),
    ),
    fcpMs: audit('first-contentful-paint'),
    lcpMs: audit('largest-contentful-paint'),
    tbtMs: audit('total-blocking-time'),
    cls: audit('cumulative-layout-shift'),
    speedIndexMs: audit('speed-index'),
    shortfalls: [...new Set(shortfalls)],
    consoleErrors,
  };
}

// Of several runs of one page, the one with the median performance score (the middle of three):
// a whole run, so its metrics belong together.
export function medianRun(runs: TLighthouseScores[]): TLighthouseScores {
  const sorted = [...runs].sort((a, b) => (a.scores.performance ?? 0) - (b.scores.performance ?? 0));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
