import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { makeTempDir } from './helpers/context';
import { requestAs, startServer, type THttpResponse, type TServer } from './helpers/server';

// proxy.ts against the production server, with requests a browser would never send: the internal
// tenant tree (/t/<host>/…) is never reachable from outside, and the tenant is chosen by the Host
// header alone. Raw requests (requestAs): fetch would normalise the very paths this is about.
let server: TServer;
let requests = 0;
let unanswered = 0;
const OWN = 'Acme Bank';
const OTHER = 'Other Trust Ltd';

beforeAll(async () => {
  const dataDir = makeTempDir();
  const env = { SEALPOST_DATA_DIR: dataDir, SEALPOST_DEMO_TENANT: 'off', SMTP_URL: 'smtp://127.0.0.1:9' };
  server = await startServer(env);
  for (const [slug, name] of [
    ['acme', OWN],
    ['other', OTHER],
  ]) {
    const created = runCli(['tenant', 'create', slug!, '--name', name!, '--domain', `${slug}.example`], env);
    expect(created.status, created.stderr).toBe(0);
  }
});
afterAll(async () => {
  // Sockets still open (a request the server is still reading) would hold its shutdown.
  http.globalAgent.destroy();
  await server?.stop();
  console.info(`proxy sweep: ${requests} requests, ${unanswered} refused below HTTP or unanswered in 5 s`);
});

// A raw request that cannot hang the suite: a framing header (Content-Length: 1) would otherwise
// keep the server waiting for a body that never comes. Redirects (Next's trailing-slash 308) are
// followed on the same host, with the same headers, so the page they lead to is judged too.
type TSendInit = { method?: string; headers?: Record<string, string>; body?: string };
async function send(host: string, urlPath: string, init: TSendInit = {}, hops = 0): Promise<THttpResponse | 'no answer'> {
  requests += 1;
  const timeout = new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), 5000).unref());
  const r = await Promise.race([requestAs(server.port, host, urlPath, init).catch(() => 'no answer' as const), timeout]);
  if (r === 'no answer') unanswered += 1;
  if (r === 'no answer' || r.status < 300 || r.status >= 400 || typeof r.headers.location !== 'string') return r;
  const location = r.headers.location;
  const target = URL.canParse(location)
    ? new URL(location)
    : location.startsWith('/') && !/^[/\\]{2}/.test(location)
      ? new URL(location, 'http://same.invalid')
      : null;
  // A redirect to any other host is reported as such (its page is never fetched).
  if (!target || (target.host !== 'same.invalid' && target.host !== host) || hops >= 3) return { ...r, body: `redirect to ${location}` };
  return send(host, target.pathname + target.search, init, hops + 1);
}
const at = (name: string) => `${name}:${server.port}`;

// Whose page it is: the tenant's name is on every page of its portal.
const showsOther = (r: THttpResponse | 'no answer') => r !== 'no answer' && r.body.includes(OTHER);
const showsOwn = (r: THttpResponse | 'no answer') => r !== 'no answer' && r.body.includes(OWN);

describe('baseline', () => {
  it("each tenant host shows its own portal, the base host neither's", async () => {
    const own = await send(at('acme.localhost'), '/');
    expect(own !== 'no answer' && own.status).toBe(200);
    expect(showsOwn(own) && !showsOther(own)).toBe(true);
    expect(showsOther(await send(at('other.localhost'), '/'))).toBe(true);
    const base = await send(at('localhost'), '/');
    expect(base !== 'no answer' && base.status).toBe(200);
    expect(showsOwn(base) || showsOther(base)).toBe(false);
    // The tree itself, asked for plainly: 404 on every host.
    for (const host of ['localhost', 'acme.localhost', '127.0.0.1']) {
      const r = await send(at(host), '/t/other.localhost');
      expect(r !== 'no answer' && r.status, host).toBe(404);
    }
  });
});

// Spellings of /t/other.localhost/ (and of its pages) that a lenient decoder, a dot-segment
// resolver or a case-insensitive matcher could turn into the internal tree.
const T = 'other.localhost';
const PATHS = [
  `/t/${T}`,
  `/t/${T}/`,
  `/t/${T}/r/x`,
  `/t/${T}/open`,
  `/t/${T}/m/x`,
  '/t',
  '/t/',
  `/%74/${T}/`,
  `/%54/${T}/`,
  `/%2574/${T}/`,
  `/%252574/${T}/`,
  `/t%2f${T}/`,
  `/t%2F${T}/`,
  `/%2ft/${T}/`,
  `/%2Ft%2F${T}%2F`,
  `/./t/${T}/`,
  `/.//t/${T}/`,
  `//t/${T}/`,
  `///t/${T}/`,
  `/T/${T}/`,
  `/T/${T.toUpperCase()}/`,
  `/%2e/t/${T}/`,
  `/%2E/t/${T}/`,
  `/x/../t/${T}/`,
  `/x/%2e%2e/t/${T}/`,
  `/x/%2E%2E/t/${T}/`,
  `/x/..%2ft/${T}/`,
  `/t/acme.localhost/../t/${T}/`,
  `/t/acme.localhost/%2e%2e/${T}/`,
  `/t/${T}/./`,
  `/t/${T}/../${T}/`,
  `/t;x/${T}/`,
  `/t;/${T}/`,
  `/t/${T};x/`,
  `/;/t/${T}/`,
  `/t%3b/${T}/`,
  `\\t\\${T}\\`,
  `/\\t/${T}/`,
  `\\/t/${T}/`,
  `/t\\${T}/`,
  `/%5ct/${T}/`,
  `/%5Ct%5C${T}/`,
  `/t/${T}.`,
  `/t/${T}./`,
  `/t/${T.toUpperCase()}/`,
  `/t/${T}%00/`,
  `/t%00/${T}/`,
  `/t%09/${T}/`,
  `/t%20/${T}/`,
  `/%20/t/${T}/`,
  `/t/${T}?x=1`,
  `/t/${T}#x`,
  `/t/${T}/%3f`,
  `/_next/../t/${T}/`,
  `/_next/static/../../t/${T}/`,
  `/api/../t/${T}/`,
  `/api/%2e%2e/t/${T}/`,
  `/federated/../t/${T}/`,
  `/mailbox/../t/${T}/`,
  `/favicon.ico/../t/${T}/`,
  `/_next/data/x/t/${T}.json`,
  `/index/t/${T}`,
  `/t/${T}/index.rsc`,
  `/t/${T}.rsc`,
  `/%C0%AFt/${T}/`,
  `/t%C0%AF${T}/`,
  `/ｔ/${T}/`,
  `/%EF%BD%94/${T}/`,
  `http://localhost/t/${T}/`,
  `http://${T}/`,
  `http://${T}/t/${T}/`,
];
// Host headers: exact, case and trailing-dot variants, with and without a port, IP literals, the
// auth host, and nonsense.
const HOSTS = [
  'localhost',
  'acme.localhost',
  'ACME.localhost',
  'acme.localhost.',
  'localhost.',
  'LOCALHOST',
  '127.0.0.1',
  '[::1]',
  '127.1',
  '0x7f.0.0.1',
  '2130706433',
  'auth.localhost',
  'acme.localhost:1',
  'acme.localhost:99999',
  'acme.localhost@other.localhost',
  'other.localhost.evil',
  'x.acme.localhost',
  '',
];

describe('percent-encoded, dot-segment, case and separator spellings of the internal tree', () => {
  it(`${PATHS.length} paths × ${HOSTS.length} Host headers: never a page of the tree, never another tenant's page`, async () => {
    const findings: string[] = [];
    for (const host of HOSTS) {
      const hostHeader = host === '' || /:\d+$/.test(host) ? host : at(host);
      for (const p of PATHS) {
        const r = await send(hostHeader, p);
        if (r === 'no answer') continue; // refused at the HTTP layer (Node rejects some request lines): nothing served
        // The other tenant's portal shows only on the other tenant's host.
        if (showsOther(r)) findings.push(`${host} ${p}: other tenant's page (${r.status})`);
        // Anything under the tree: 400 or 404, except on acme's host, whose own portal 404s an
        // unknown path inside its own tree (and shows its own name on that page).
        if (![400, 404].includes(r.status)) findings.push(`${host} ${p}: ${r.status} ${r.status < 400 ? r.body.slice(0, 80) : ''}`);
      }
    }
    expect(findings).toEqual([]);
  });
});

// Every header name param-miner knows (PortSwigger's list; `~template` suffixes dropped), sent
// with values that would choose another tenant or reach the tree if anything trusted them.
const CORPUS = path.resolve(import.meta.dirname, 'corpora', 'headers', 'param-miner-headers.txt');
const HEADER_NAMES = [
  ...new Set(
    fs
      .readFileSync(CORPUS, 'utf8')
      .split('\n')
      .map((l) => l.split('~')[0]!.trim().toLowerCase())
      .filter(Boolean),
  ),
];
// These change how the request is framed or which host it is, not where it is routed: each goes
// on a request of its own (a batch of them would only be a malformed request).
const ALONE = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
  'upgrade',
  'keep-alive',
  'te',
  'trailer',
  'proxy-connection',
]);
const VALUES = [T, `/t/${T}/`, `http://${T}/t/${T}/`, '127.0.0.1', '1'];
const BATCH = 40;

describe('internal and forwarding headers', () => {
  it('the list is the one meant', () => expect(HEADER_NAMES.length).toBeGreaterThanOrEqual(1200));

  it('every header name, with hostile values, on a tenant page and on the base host: never another tenant, never the tree', async () => {
    const findings: string[] = [];
    const batched = HEADER_NAMES.filter((n) => !ALONE.has(n));
    const groups: string[][] = [];
    for (let i = 0; i < batched.length; i += BATCH) groups.push(batched.slice(i, i + BATCH));
    for (const n of HEADER_NAMES.filter((n) => ALONE.has(n))) groups.push([n]);
    let tried = 0;
    for (const group of groups) {
      for (const value of VALUES) {
        // A valid Content-Length would only make the server wait for a body that never comes.
        if (group[0] === 'content-length' && value === '1') continue;
        const headers = Object.fromEntries(group.filter((n) => n !== 'host').map((n) => [n, value]));
        for (const [host, urlPath] of [
          ['acme.localhost', '/'],
          ['localhost', '/'],
          ['localhost', `/t/${T}`],
          ['acme.localhost', `/t/${T}/r/x`],
        ] as const) {
          // `host` itself: the hostile value as the Host header (another tenant's host is that
          // tenant's, by design; the others must not open the tree).
          const hostHeader = group[0] === 'host' ? value : at(host);
          const r = await send(hostHeader, urlPath, { headers });
          if (r === 'no answer') continue;
          const isOtherHost = group[0] === 'host' && value === T;
          if (showsOther(r) && !isOtherHost) findings.push(`${group.join(',')}=${value} on ${host}${urlPath}: other tenant's page`);
          // 417: Node's own answer to an Expect it does not know; 411: scripts/server.mjs refusing
          // a body (a Transfer-Encoding) of unstated size on a route with a small limit. Nothing
          // is served by either.
          if (urlPath !== '/' && ![400, 404, 411, 417].includes(r.status))
            findings.push(`${group.join(',')}=${value} on ${host}${urlPath}: ${r.status}`);
          if (host === 'localhost' && urlPath === '/' && group[0] !== 'host' && showsOwn(r))
            findings.push(`${group.join(',')}=${value} on the base host: a tenant page`);
        }
      }
      tried += group.length;
    }
    expect(tried).toBe(HEADER_NAMES.length);
    expect(findings).toEqual([]);
  });

  const SPECIFIC: Array<[string, string[]]> = [
    [
      'x-middleware-subrequest',
      [
        'proxy',
        'middleware',
        'proxy:proxy:proxy:proxy:proxy',
        'src/middleware:src/middleware:src/middleware:src/middleware:src/middleware',
        'pages/_middleware',
      ],
    ],
    ['x-sealpost-rewrite', ['1', 'true', '00000000-0000-0000-0000-000000000000']],
    ['x-sealpost-host', [T, 'other.localhost:3000']],
    ['x-forwarded-host', [T, `${T}:3000`]],
    ['forwarded', [`host=${T}`, `for=127.0.0.1;host=${T};proto=https`]],
    ['x-original-url', [`/t/${T}/`]],
    ['x-rewrite-url', [`/t/${T}/`]],
    ['x-invoke-path', [`/t/${T}`, `/t/[host]`]],
    ['x-invoke-query', [encodeURIComponent(JSON.stringify({ host: T })), JSON.stringify({ host: T })]],
    ['x-now-route-matches', [`host=${T}`, encodeURIComponent(`1=${T}`)]],
    ['x-matched-path', [`/t/[host]`, `/t/${T}`]],
    [
      'next-router-state-tree',
      [
        encodeURIComponent(
          JSON.stringify(['', { children: ['t', { children: [['host', T, 'd'], { children: ['__PAGE__', {}] }] }] }, null, null, true]),
        ),
      ],
    ],
    ['rsc', ['1']],
    ['next-action', ['0000000000000000000000000000000000000000', 'x']],
    ['next-router-prefetch', ['1']],
    ['x-nextjs-data', ['1']],
  ];

  it.each(SPECIFIC)('%s: never another tenant, never the tree', async (name, values) => {
    const findings: string[] = [];
    for (const value of values) {
      for (const [host, urlPath, method] of [
        ['acme.localhost', '/', 'GET'],
        ['localhost', '/', 'GET'],
        ['acme.localhost', '/m/00000000-0000-0000-0000-000000000000', 'GET'],
        ['localhost', `/t/${T}`, 'GET'],
        ['localhost', `/t/${T}/`, 'GET'],
        ['acme.localhost', `/t/${T}`, 'GET'],
        ['localhost', '/', 'POST'],
        ['acme.localhost', '/', 'POST'],
      ] as const) {
        const r = await send(at(host), urlPath, {
          method,
          headers: { [name]: value, ...(method === 'POST' ? { 'content-type': 'text/plain' } : {}) },
          body: method === 'POST' ? '[]' : undefined,
        });
        const label = `${name}=${value} ${method} ${host}${urlPath}`;
        if (r === 'no answer') {
          findings.push(`${label}: no answer`);
          continue;
        }
        if (r.body.includes(OTHER)) findings.push(`${label}: other tenant's page`);
        if (urlPath.startsWith('/t') && r.status !== 404) findings.push(`${label}: ${r.status}`);
        if (host === 'localhost' && r.body.includes(OWN)) findings.push(`${label}: a tenant page on the base host`);
        if (r.status >= 500) findings.push(`${label}: ${r.status}`);
      }
    }
    // The CVE-2025-29927 header is refused outright, wherever it is sent.
    if (name === 'x-middleware-subrequest') {
      requests += 1;
      expect((await requestAs(server.port, at('acme.localhost'), '/', { headers: { [name]: 'proxy' } })).status).toBe(404);
    }
    expect(findings).toEqual([]);
  });
});
