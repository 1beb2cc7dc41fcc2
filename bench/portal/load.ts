import autocannon from 'autocannon';

export type TLoadRound = {
  reqPerSec: number;
  requests: number;
  non2xx: number;
  errors: number;
  bytesPerReq: number;
  durationS: number;
  // Every response time of the round (ms), for percentiles across rounds.
  latenciesMs: number[];
};

export type RunLoadOptions = {
  port: number;
  host: string;
  path: string;
  // One per signed-in reader; connection i sends cookies[i % cookies.length].
  cookies: string[];
  connections: number;
  durationS: number;
};

// What Chromium sends for a top-level navigation, so the portal does what it does for a reader
// (including gzip, which `next start` applies to every HTML answer).
const BROWSER_HEADERS = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-encoding': 'gzip, deflate, br',
  'accept-language': 'en-GB,en;q=0.9',
  'sec-fetch-site': 'none',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
  'user-agent': 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0 Mobile Safari/537.36 sealpost-bench',
};

// Keep-alive connections, one request in flight each (no pipelining: browsers do not pipeline).
export async function runLoad({ port, host, path, cookies, connections, durationS }: RunLoadOptions): Promise<TLoadRound> {
  let next = 0;
  const latenciesMs: number[] = [];
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections,
    duration: durationS,
    pipelining: 1,
    headers: { host, ...BROWSER_HEADERS },
    setupClient: (client) => {
      client.setHeaders({ host, ...BROWSER_HEADERS, cookie: cookies[next++ % cookies.length]! });
      client.on('response', (_status, _bytes, responseTime) => latenciesMs.push(responseTime));
    },
  });
  const requests = result.requests.total;
  return {
    reqPerSec: requests / result.duration,
    requests,
    non2xx: result.non2xx,
    errors: result.errors,
    bytesPerReq: requests ? result.throughput.total / requests : 0,
    durationS: result.duration,
    latenciesMs,
  };
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

export type TLoadSummary = {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  bytesPerReq: number;
  roundsReqPerSec: number[];
};

// Rounds pooled: throughput over the summed time, percentiles over every response.
export function summarise(rounds: TLoadRound[]): TLoadSummary {
  const all = rounds.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const requests = rounds.reduce((s, r) => s + r.requests, 0);
  return {
    reqPerSec: requests / rounds.reduce((s, r) => s + r.durationS, 0),
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    maxMs: all.at(-1) ?? NaN,
    requests,
    non2xx: rounds.reduce((s, r) => s + r.non2xx, 0),
    errors: rounds.reduce((s, r) => s + r.errors, 0),
    bytesPerReq: rounds.reduce((s, r) => s + r.bytesPerReq * r.requests, 0) / (requests || 1),
    roundsReqPerSec: rounds.map((r) => r.reqPerSec),
  };
}
