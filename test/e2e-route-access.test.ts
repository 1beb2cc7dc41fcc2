import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { requestAs, SETUP_TIMEOUT_MS, startServer, type TServer } from './helpers/server';
import { linkFor, passcodeCount, passcodeFor } from './helpers/sink-mail';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

// Every route under app/ asked the questions an attacker asks first: without a session, with
// another message's session, on another tenant's host, for an id that does not exist (and, for the
// public routes, with a damaged token or on the wrong kind of host). The routes are read from the
// tree, so a new page or handler fails this test until the table below says what it answers.
// Modelled on Documenso's e2e/api/v2/unauthorized-api-access/. The statuses are the ones each
// route gives today (issue 11: behaviour stays as it is).

const APP = path.join(ROOT, 'app');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

// `GET /t/[host]/m/[id]` for app/t/[host]/m/[id]/page.tsx; a route.ts gets one key per exported method.
function discoverRoutes(dir = APP): string[] {
  const keys: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      keys.push(...discoverRoutes(full));
      continue;
    }
    const pattern = `/${path.relative(APP, dir).split(path.sep).join('/')}`.replace(/\/$/, '') || '/';
    if (entry.name === 'page.tsx') keys.push(`GET ${pattern}`);
    if (entry.name === 'route.ts') {
      const source = fs.readFileSync(full, 'utf8');
      for (const method of METHODS) {
        // `export async function GET`, `export const GET =`, `export { GET }`, `export const { GET } =`.
        const exported = new RegExp(
          `export\\s+(async\\s+)?function\\s+${method}\\b|export\\s+(const|let)\\s+${method}\\b|export\\s+(const\\s+)?\\{[^}]*\\b${method}\\b[^}]*\\}`,
        );
        if (exported.test(source)) keys.push(`${method} ${pattern}`);
      }
    }
  }
  return keys.sort();
}

// What a route is, and so which questions it is asked. Each kind's cases are all asked: a table
// entry gives a status for every one, or says why the case does not apply to it.
const CASES = {
  // A reader's page or action on one message (/m/<id>…), behind the recipient session.
  message: ['noSession', 'otherMessageSession', 'otherTenantHost', 'unknownTenantHost', 'unknownId'],
  // A step reached from the landing link (/r/<token>…): the token is the key.
  link: ['damagedToken', 'otherTenantHost', 'unknownTenantHost', 'authHost'],
  // A tenant host's own page or action, no message in its address.
  tenant: ['noSession', 'unknownTenantHost', 'authHost'],
  // The auth host's federated sign-in; nothing of it on any other host.
  auth: ['unknownSignIn', 'tenantHost', 'baseHost'],
  // The operator's base host (home, health).
  base: ['anonymous', 'authHost'],
  // The sending API, behind an API key.
  api: ['noKey', 'wrongKey', 'otherTenantKey', 'unknownId', 'authHost'],
  // The local mailbox (the embedded default's; off whenever mail leaves by SMTP, as here:
  // test/mailbox.test.ts asks the same questions with it on).
  mailbox: ['local', 'unknownId', 'tenantHost'],
  // POST /open, message.html's form, outside the proxy (app/open/route.ts).
  open: ['damagedToken', 'otherTenantHost', 'unknownTenantHost', 'authHost'],
} as const;

type TKind = keyof typeof CASES;
type TExpected = number | `n/a: ${string}`;
type TEntry<K extends TKind = TKind> = { kind: K; expect: { [C in (typeof CASES)[K][number]]: TExpected } };

const entry = <K extends TKind>(kind: K, expect: TEntry<K>['expect']): TEntry => ({ kind, expect }) as TEntry;

// The expectation table: one row per route and method, keyed as discoverRoutes names them.
const TABLE: Record<string, TEntry> = {
  'GET /': entry('base', { anonymous: 200, authHost: 404 }),
  'GET /api/health': entry('base', { anonymous: 200, authHost: 404 }),
  'GET /api/ready': entry('base', { anonymous: 200, authHost: 404 }),
  'GET /api/auth/[...nextauth]': entry('auth', { unknownSignIn: 400, tenantHost: 404, baseHost: 404 }),
  'GET /federated/[id]': entry('auth', { unknownSignIn: 400, tenantHost: 404, baseHost: 404 }),
  'GET /federated/[id]/go': entry('auth', { unknownSignIn: 400, tenantHost: 404, baseHost: 404 }),
  'GET /federated/error': entry('auth', { unknownSignIn: 400, tenantHost: 404, baseHost: 404 }),
  'POST /api/v1/messages': entry('api', {
    noKey: 401,
    wrongKey: 401,
    otherTenantKey: 403,
    unknownId: 'n/a: no id in the address',
    authHost: 404,
  }),
  'POST /api/v1/messages/[id]/unblock': entry('api', { noKey: 401, wrongKey: 401, otherTenantKey: 404, unknownId: 404, authHost: 404 }),
  'GET /mailbox': entry('mailbox', { local: 404, unknownId: 'n/a: no id in the address', tenantHost: 404 }),
  'GET /mailbox/[id]': entry('mailbox', { local: 404, unknownId: 404, tenantHost: 404 }),
  'GET /mailbox/[id]/attachments/[index]': entry('mailbox', { local: 404, unknownId: 404, tenantHost: 404 }),
  'POST /open': entry('open', { damagedToken: 400, otherTenantHost: 400, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]': entry('tenant', { noSession: 200, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/signout': entry('tenant', { noSession: 303, unknownTenantHost: 404, authHost: 404 }),
  // (On the auth host /federated/complete is /federated/[id] with the id "complete": refused as such.)
  'GET /t/[host]/federated/complete': entry('tenant', { noSession: 400, unknownTenantHost: 404, authHost: 400 }),
  // The admin console (test/e2e-admin.test.ts asks the same with admins' sessions: auditor 403,
  // another tenant's admin 404). Without a session: pages go to sign-in, actions 401.
  'GET /t/[host]/admin': entry('tenant', { noSession: 200, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/invite/[token]': entry('tenant', { noSession: 404, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/invite/[token]/options': entry('tenant', { noSession: 404, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/invite/[token]/verify': entry('tenant', { noSession: 400, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/signin/options': entry('tenant', { noSession: 200, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/signin/verify': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/signout': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/admins': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/admins/invite': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/admins/role': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/admins/remove': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/keys': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/keys/rotate': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/credentials': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/credentials/api-keys': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/credentials/api-keys/revoke': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/credentials/relay': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/credentials/relay/revoke': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/passkeys': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/passkeys/options': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/passkeys/verify': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/passkeys/remove': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/templates': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/templates/edit': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/templates/save': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/templates/delete': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/templates/preview/mail': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/templates/preview/landing': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/audit': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/audit/export': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/messages': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/messages/[id]': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/messages/[id]/revoke': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  // "Sign in with <provider>" without a provider: back to the sign-in page; a hand-off without
  // its secrets: the sign-in page, saying it cannot be used.
  'POST /t/[host]/admin/oidc': entry('tenant', { noSession: 303, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/oidc/complete': entry('tenant', { noSession: 303, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/identity-providers': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/identity-providers/add': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/identity-providers/remove': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/identity-providers/admins': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/domain': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/domain/save': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/rules': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/rules/edit': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/rules/save': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/rules/move': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/rules/remove': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/rules/test': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/admin/connectors': entry('tenant', { noSession: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/connectors/add': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/connectors/remove': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/connectors/inbound': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/admin/connectors/inbound/remove': entry('tenant', { noSession: 401, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/m/[id]': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'GET /t/[host]/m/[id]/attachments/[index]': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'GET /t/[host]/m/[id]/body': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'POST /t/[host]/m/[id]/copy': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'GET /t/[host]/m/[id]/forward': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'POST /t/[host]/m/[id]/forward/send': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'GET /t/[host]/m/[id]/gone': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'GET /t/[host]/m/[id]/reply': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'POST /t/[host]/m/[id]/reply/send': entry('message', {
    noSession: 401,
    otherMessageSession: 403,
    otherTenantHost: 401,
    unknownTenantHost: 404,
    unknownId: 403,
  }),
  'GET /t/[host]/r/[token]': entry('link', { damagedToken: 307, otherTenantHost: 307, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/r/[token]/federated': entry('link', { damagedToken: 303, otherTenantHost: 303, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/r/[token]/gone': entry('link', { damagedToken: 400, otherTenantHost: 400, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/r/[token]/passcode': entry('link', { damagedToken: 303, otherTenantHost: 303, unknownTenantHost: 404, authHost: 404 }),
  'POST /t/[host]/r/[token]/signin': entry('link', { damagedToken: 303, otherTenantHost: 303, unknownTenantHost: 404, authHost: 404 }),
  'GET /t/[host]/r/[token]/verify': entry('link', { damagedToken: 307, otherTenantHost: 307, unknownTenantHost: 404, authHost: 404 }),
};

const UNKNOWN_MESSAGE = '00000000-0000-4000-8000-000000000000';
const UNKNOWN_SIGN_IN = 'AAAAAAAAAAAAAAAAAAAAAA';
const DAMAGED_TOKEN = 'not-a-token';
const FORM = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
// Bodies a real client would post, so that what answers is the access check, not a missing field.
const FORM_BODIES: Record<string, string> = {
  copy: '',
  signout: '',
  passcode: '',
  signin: 'passcode=12345678',
  federated: 'provider=google',
  send: 'all=0&body=Thank+you&to=ned%40example.org',
};

let sink: TSmtpSink;
let server: TServer;
let port: number;
let cliEnv: Record<string, string>;
// Acme's message to bob, acme's message to dave, the API keys of acme and beta.
const fixture = { messageId: '', token: '', rt: '', envelope: '', bobCookie: '', daveCookie: '', key: '', otherKey: '' };

async function send(tenant: string, to: string): Promise<{ messageId: string; link: string; rt: string; envelope: string }> {
  const file = path.join(cliEnv.SEALPOST_DATA_DIR!, `${tenant}-${to}.eml`);
  fs.writeFileSync(file, sampleEml({ to: [to], from: `Alice Example <alice@${tenant}.example>` }));
  const before = sink.mails.length;
  const sent = runCli(['send', '--tenant', tenant, file], cliEnv);
  expect(sent.status, sent.stderr).toBe(0);
  await sink.waitFor(before + 1);
  const mail = sink.mails.slice(before).find((m) => m.rcptTo[0] === to)!;
  const html = String(mail.parsed.attachments.find((a) => a.filename === 'message.html')?.content ?? '');
  return {
    messageId: sent.json.messageId as string,
    link: linkFor({ sink, address: to, from: before }),
    rt: /name="rt" value="([^"]+)"/.exec(html)?.[1] ?? '',
    envelope: /name="envelope" value="([^"]+)"/.exec(html)?.[1] ?? '',
  };
}

const cookiesOf = (setCookie: string[] | undefined) => (setCookie ?? []).map((c) => c.split(';')[0]!).filter((c) => !c.endsWith('='));

// The reader's passcode sign-in over HTTP, as the portal's forms post it; the session cookie.
async function signInOverHttp(link: string, address: string): Promise<string> {
  const { host, pathname } = new URL(link);
  const seen = passcodeCount(sink, address);
  const asked = await requestAs(port, host, `${pathname}/passcode`, { method: 'POST', headers: FORM, body: '' });
  expect(asked.status).toBe(303);
  const challenge = cookiesOf(asked.headers['set-cookie']).join('; ');
  const code = await passcodeFor(sink, address, seen);
  const signedIn = await requestAs(port, host, `${pathname}/signin`, {
    method: 'POST',
    headers: { ...FORM, cookie: challenge },
    body: `passcode=${code}`,
  });
  expect(signedIn.status).toBe(303);
  const session = cookiesOf(signedIn.headers['set-cookie']).filter((c) => c.startsWith('sealpost-session='));
  expect(session).toHaveLength(1);
  return session[0]!;
}

type TRequest = { host: string; path: string; method: string; headers: Record<string, string>; body?: string };

// The request a case makes of a route: its URL from the route's pattern, on the host the case names.
function requestFor(routeKey: string, kind: TKind, kase: string): TRequest {
  const [method, pattern] = routeKey.split(' ') as [string, string];
  const hosts = {
    acme: `acme.localhost:${port}`,
    beta: `beta.localhost:${port}`,
    nope: `nope.localhost:${port}`,
    auth: `auth.localhost:${port}`,
    base: `localhost:${port}`,
  };
  const id = kase === 'unknownId' ? UNKNOWN_MESSAGE : fixture.messageId;
  const token = kase === 'damagedToken' ? DAMAGED_TOKEN : fixture.token;
  const signIn = UNKNOWN_SIGN_IN;
  const publicPath = pattern
    .replace(/^\/t\/\[host\]/, '')
    .replace('[id]', pattern.startsWith('/federated/') ? signIn : id)
    .replace('[token]', token)
    .replace('[index]', '0')
    .replace('[...nextauth]', 'callback/google')
    .replace(/^$/, '/');
  const query =
    pattern === '/api/auth/[...nextauth]' ? '?code=x&state=y' : pattern === '/t/[host]/federated/complete' ? `?id=${signIn}&h=x` : '';
  const last = pattern.split('/').at(-1)!;
  const headers: Record<string, string> = method === 'POST' ? { ...FORM } : {};
  let body = method === 'POST' ? (FORM_BODIES[last] ?? '') : undefined;
  let host = hosts.acme;
  switch (kind) {
    case 'message':
      if (kase === 'otherMessageSession') headers.cookie = fixture.daveCookie;
      if (kase === 'otherTenantHost' || kase === 'unknownId') headers.cookie = fixture.bobCookie;
      if (kase === 'unknownTenantHost') headers.cookie = fixture.bobCookie;
      if (kase === 'otherTenantHost') host = hosts.beta;
      if (kase === 'unknownTenantHost') host = hosts.nope;
      break;
    case 'link':
    case 'tenant':
      host = { otherTenantHost: hosts.beta, unknownTenantHost: hosts.nope, authHost: hosts.auth }[kase] ?? hosts.acme;
      break;
    case 'auth':
      host = { tenantHost: hosts.acme, baseHost: hosts.base }[kase] ?? hosts.auth;
      break;
    case 'base':
      host = kase === 'authHost' ? hosts.auth : hosts.base;
      break;
    case 'api': {
      host = kase === 'authHost' ? hosts.auth : hosts.base;
      const key = { noKey: '', wrongKey: 'sp_wrong', otherTenantKey: fixture.otherKey }[kase] ?? fixture.key;
      Object.assign(headers, key ? { authorization: `Bearer ${key}` } : {});
      if (pattern === '/api/v1/messages') {
        headers['content-type'] = 'message/rfc822';
        body = sampleEml({ to: ['erin@example.org'] }).toString();
      } else {
        headers['content-type'] = 'application/json';
        body = JSON.stringify({ address: 'bob@gmail.com' });
      }
      delete headers['sec-fetch-site'];
      break;
    }
    case 'mailbox':
      host = kase === 'tenantHost' ? hosts.acme : hosts.base;
      break;
    case 'open':
      host = { otherTenantHost: hosts.beta, unknownTenantHost: hosts.nope, authHost: hosts.auth }[kase] ?? hosts.acme;
      headers.origin = 'null';
      body = `rt=${kase === 'damagedToken' ? DAMAGED_TOKEN : fixture.rt}&envelope=${fixture.envelope}`;
      break;
  }
  return { host, path: `${publicPath}${query}`, method, headers, body };
}

beforeAll(async () => {
  sink = await startSmtpSink();
  const dataDir = makeTempDir();
  const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
  server = await startServer(env);
  port = server.port;
  cliEnv = { ...env, PORT: String(port) };
  for (const slug of ['acme', 'beta'])
    expect(runCli(['tenant', 'create', slug, '--name', slug, '--domain', `${slug}.example`], cliEnv).status).toBe(0);
  fixture.key = runCli(['apikey', 'create', '--tenant', 'acme'], cliEnv).json.key;
  fixture.otherKey = runCli(['apikey', 'create', '--tenant', 'beta'], cliEnv).json.key;
  const bob = await send('acme', 'bob@gmail.com');
  const dave = await send('acme', 'dave@example.org');
  Object.assign(fixture, { messageId: bob.messageId, token: bob.link.split('/r/')[1]!, rt: bob.rt, envelope: bob.envelope });
  fixture.bobCookie = await signInOverHttp(bob.link, 'bob@gmail.com');
  fixture.daveCookie = await signInOverHttp(dave.link, 'dave@example.org');
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

const ROUTES = discoverRoutes();
const ROWS = Object.entries(TABLE).flatMap(([route, { kind, expect: cases }]) =>
  Object.entries(cases as Record<string, TExpected>)
    .filter(([, status]) => typeof status === 'number')
    .map(([kase, status]) => ({ route, kind, kase, status: status as number })),
);

describe(`route access (${ROUTES.length} routes, ${ROWS.length} cases)`, () => {
  it('the table covers exactly the routes under app/: a new page or handler needs its row', () => {
    expect(ROUTES.length).toBeGreaterThan(0);
    expect(Object.keys(TABLE).sort()).toEqual(ROUTES);
  });

  it('every row answers every question its kind is asked (a status, or why it does not apply)', () => {
    for (const [route, { kind, expect: cases }] of Object.entries(TABLE)) {
      expect(Object.keys(cases).sort(), route).toEqual([...CASES[kind]].sort());
    }
  });

  it('the sessions the table uses are good ones: each opens its own message', async () => {
    const mine = await requestAs(port, `acme.localhost:${port}`, `/m/${fixture.messageId}`, { headers: { cookie: fixture.bobCookie } });
    expect(mine.status).toBe(200);
    expect(fixture.daveCookie).not.toBe(fixture.bobCookie);
  });

  it.each(ROWS)('$route — $kase → $status', async ({ route, kind, kase, status }) => {
    const r = requestFor(route, kind, kase);
    const res = await requestAs(port, r.host, r.path, { method: r.method, headers: r.headers, body: r.body });
    expect(res.status, `${r.method} ${r.host}${r.path}`).toBe(status);
    // No refusal shows the message, and no redirect leaves the host that was asked.
    if (status >= 400) expect(res.body).not.toContain('The secret body');
    if (status >= 300 && status < 400) expect(new URL(String(res.headers.location), `http://${r.host}`).host).toBe(r.host);
  });
});
