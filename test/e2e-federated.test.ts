import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, launchBrowser, PHONE } from './helpers/browser';
import { ROOT, runCli, runCliAsync } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { startOidcProvider, type TOidcProvider } from './helpers/oidc-provider';
import { freePort, requestAs, startServer, type THttpResponse, type TServer } from './helpers/server';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

// Federated sign-in end to end: the real server, three real OpenID providers (oidc-provider) on
// loopback shaped like Google, Microsoft and a tenant's own, and Debian's Chromium.

const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const MS_CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

let sink: TSmtpSink;
let server: TServer;
let browser: Browser;
let cliEnv: Record<string, string>;
let dataDir: string;
let port: number;
let authOrigin: string;
let google: TOidcProvider;
let microsoft: TOidcProvider;
let acmeIdp: TOidcProvider;
const links: Record<string, string> = {};

const callback = (provider: string) => `${authOrigin}/api/auth/callback/${provider}`;

function linkIn(address: string, subject = 'Your statement', from = 0): string {
  const mail = sink.mails.slice(from).find((m) => m.rcptTo[0] === address && m.parsed.subject === subject && /\/r\//.test(String(m.parsed.html)));
  const href = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(mail?.parsed.html))?.[1];
  if (!href) throw new Error(`no wrapper link for ${address}`);
  return href;
}

async function shot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `federated-${name}.png`), fullPage: true });
}

// The development login page of oidc-provider: any listed account, any password.
async function signInAtProvider(page: Page, login: string) {
  await page.locator('input[name="login"]').waitFor();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

async function send(tenant: string, to: string[], file = `${tenant}-${to.join('_')}.eml`) {
  const eml = path.join(dataDir, file);
  fs.writeFileSync(eml, sampleEml({ to, from: `Alice Example <alice@${tenant}.example>` }));
  const before = sink.mails.length;
  const sent = runCli(['send', '--tenant', tenant, eml], cliEnv);
  expect(sent.status, sent.stderr).toBe(0);
  await sink.waitFor(before + to.length);
  return { messageId: sent.json.messageId as string, from: before };
}

const setBranding = (tenant: string, branding: object, template?: string) => {
  const file = path.join(dataDir, `${tenant}-${template ?? 'default'}.json`);
  fs.writeFileSync(file, JSON.stringify(branding));
  const r = runCli(['branding', 'set', '--tenant', tenant, ...(template ? ['--template', template] : []), file], cliEnv);
  expect(r.status, r.stderr).toBe(0);
};

beforeAll(async () => {
  sink = await startSmtpSink();
  dataDir = makeTempDir();
  port = await freePort();
  authOrigin = `http://auth.localhost:${port}`;
  google = await startOidcProvider({
    path: '/google',
    client: { clientId: 'sealpost-google', clientSecret: 'google-client-secret', redirectUris: [callback('google')] },
    accounts: {
      'bob@gmail.com': { email: 'bob@gmail.com', email_verified: true },
      'stranger@gmail.com': { email: 'stranger@gmail.com', email_verified: true },
      unverified: { email: 'carol@yahoo.com', email_verified: false },
      bare: { email: 'carol@yahoo.com' },
      'string-true': { email: 'carol@yahoo.com', email_verified: 'true' },
      'no-email': { name: 'No Email' },
    },
  });
  microsoft = await startOidcProvider({
    path: '/common/v2.0',
    extraClaims: ['tid', 'xms_edov'],
    client: { clientId: 'sealpost-microsoft', clientSecret: 'microsoft-client-secret', redirectUris: [callback('microsoft')] },
    accounts: {
      'dave@contoso.example': { email: 'dave@contoso.example', tid: 'contoso-tenant', xms_edov: true },
      'frank@outlook.example': { email: 'frank@outlook.example', tid: MS_CONSUMER_TENANT },
      // nOAuth: a directory the attacker runs sets its user's mail to the victim's address.
      nOAuth: { email: 'dave@contoso.example', tid: 'attacker-tenant' },
      'nOAuth-claims-verified': { email: 'dave@contoso.example', tid: 'attacker-tenant', email_verified: true },
    },
  });
  acmeIdp = await startOidcProvider({
    path: '/acme',
    client: { clientId: 'sealpost-acme', clientSecret: 'acme-client-secret', redirectUris: [callback('oidc-acme-corp')] },
    accounts: {
      'alice@acme.example': { email: 'alice@acme.example' },
      outsider: { email: 'bob@gmail.com' },
    },
  });
  const env = {
    PORT: String(port), SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off',
    SEALPOST_GOOGLE_CLIENT_ID: 'sealpost-google', SEALPOST_GOOGLE_CLIENT_SECRET: 'google-client-secret', SEALPOST_GOOGLE_ISSUER: google.issuer,
    SEALPOST_MICROSOFT_CLIENT_ID: 'sealpost-microsoft', SEALPOST_MICROSOFT_CLIENT_SECRET: 'microsoft-client-secret', SEALPOST_MICROSOFT_ISSUER: microsoft.issuer,
  };
  server = await startServer(env);
  cliEnv = env;
  for (const [slug, name] of [['acme', 'Acme Bank'], ['beta', 'Beta Clinic']]) {
    expect(runCli(['tenant', 'create', slug!, '--name', name!, '--domain', `${slug}.example`], cliEnv).status).toBe(0);
  }
  const secretFile = path.join(dataDir, 'acme-idp-secret');
  fs.writeFileSync(secretFile, 'acme-client-secret\n');
  const added = await runCliAsync(['idp', 'add', '--tenant', 'acme', '--name', 'corp', '--display', 'Acme staff', '--issuer', acmeIdp.issuer, '--client-id', 'sealpost-acme', '--client-secret-file', secretFile, '--trust-domain', 'acme.example'], cliEnv);
  expect(added.status, added.stderr).toBe(0);
  expect(added.json.redirectUri).toBe(callback('oidc-acme-corp'));
  setBranding('acme', { signInMethods: { oidc: ['corp'] } });
  await send('acme', ['bob@gmail.com', 'carol@yahoo.com', 'dave@contoso.example', 'frank@outlook.example']);
  for (const a of ['bob@gmail.com', 'carol@yahoo.com', 'dave@contoso.example', 'frank@outlook.example']) links[`acme:${a}`] = linkIn(a);
  const beta = await send('beta', ['bob@gmail.com']);
  links['beta:bob@gmail.com'] = linkIn('bob@gmail.com', 'Your statement', beta.from);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await Promise.all([google?.close(), microsoft?.close(), acmeIdp?.close(), sink?.close()]);
});

describe('federated sign-in in Chromium', () => {
  it('Google: sign in at the provider and land back on the tenant host with the message — on two tenant hosts through the one redirect URI', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const redirectUris: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin === new URL(google.issuer).origin && url.pathname.endsWith('/auth')) redirectUris.push(url.searchParams.get('redirect_uri') ?? '');
    });
    await page.goto(links['acme:bob@gmail.com']!);
    await shot(page, '1-landing');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign in with Google' }).click();
    await signInAtProvider(page, 'bob@gmail.com');
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    expect(new URL(page.url()).host).toBe(`acme.localhost:${port}`);
    await expect(page.locator('article').textContent()).resolves.toContain('The secret body: account 12345678.');
    await shot(page, '2-message');

    // Another tenant's host, the same provider registration: the provider remembers Bob.
    await page.goto(links['beta:bob@gmail.com']!);
    await page.getByRole('button', { name: 'Sign in with Google' }).click();
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    expect(new URL(page.url()).host).toBe(`beta.localhost:${port}`);
    expect(redirectUris).toEqual([callback('google'), callback('google')]);
    await context.close();
  });

  it('Microsoft: a work account of a verified domain, on a phone with JavaScript off; a personal account too', async () => {
    const context = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(links['acme:dave@contoso.example']!);
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await signInAtProvider(page, 'dave@contoso.example');
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    await shot(page, '3-microsoft-phone');
    await context.close();

    const personal = await browser.newContext();
    const other = await personal.newPage();
    await other.goto(links['acme:frank@outlook.example']!);
    await other.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await signInAtProvider(other, 'frank@outlook.example');
    await other.getByRole('heading', { name: 'Your statement' }).waitFor();
    await personal.close();
  });
});
