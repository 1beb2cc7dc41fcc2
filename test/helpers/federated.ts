import fs from 'node:fs';
export { SETUP_TIMEOUT_MS } from './server';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchBrowser } from './browser';
import { runCli, runCliAsync } from './cli';
import { makeTempDir, sampleEml } from './context';
import { startOidcProvider, type TOidcProvider } from './oidc-provider';
import { shot as screenshot } from './screenshots';
import { freePort, requestAs, startServer, type THttpResponse, type TServer } from './server';
import { linkFor } from './sink-mail';
import { startSmtpSink, type TSmtpSink } from './smtp-sink';

// Federated sign-in end to end: the real server, three real OpenID providers (oidc-provider) on
// loopback shaped like Google, Microsoft and a tenant's own, and Debian's Chromium. Tenants acme
// (with its own provider "corp", trusted for acme.example) and beta; one message from acme to four
// recipients and one from beta to bob (links keyed `acme:<address>`, `beta:<address>`). One per
// test file, so a journey never depends on what another file's journey left behind.

const MS_CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

export const shot = (page: Page, name: string) => screenshot(page, `federated-${name}`);

export type TPaused = { context: BrowserContext; callbackUrl: URL; cookies: Record<string, string> };
type TSignInAt = { link: string; button: string; login: string };

export type TFederated = {
  sink: TSmtpSink;
  server: TServer;
  browser: Browser;
  cliEnv: Record<string, string>;
  dataDir: string;
  port: number;
  authOrigin: string;
  google: TOidcProvider;
  microsoft: TOidcProvider;
  acmeIdp: TOidcProvider;
  links: Record<string, string>;
  callback(provider: string): string;
  linkIn(address: string, subject?: string, from?: number): string;
  signInAtProvider(page: Page, login: string): Promise<void>;
  setBranding(tenant: string, branding: object, template?: string): void;
  refusedAfter(
    options: TSignInAt,
  ): Promise<{ context: BrowserContext; page: Page; status: number; heading: string | null; cookies: string[] }>;
  pausedAtCallback(options: TSignInAt): Promise<TPaused>;
  deliver(url: URL, cookies: Record<string, string>, providerPath?: string): Promise<THttpResponse>;
  isHandedOff(r: THttpResponse): boolean;
  isSentBack(r: THttpResponse): boolean;
  stop(): Promise<void>;
};

export const withState = (url: URL, state: string) => {
  const copy = new URL(url);
  copy.searchParams.set('state', state);
  return copy;
};

// The development login page of oidc-provider: any listed account, any password.
export async function signInAtProvider(page: Page, login: string) {
  await page.locator('input[name="login"]').waitFor();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

export async function startFederated(): Promise<TFederated> {
  const sink = await startSmtpSink();
  const dataDir = makeTempDir();
  const port = await freePort();
  const authOrigin = `http://auth.localhost:${port}`;
  const callback = (provider: string) => `${authOrigin}/api/auth/callback/${provider}`;
  const google = await startOidcProvider({
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
  const microsoft = await startOidcProvider({
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
  const acmeIdp = await startOidcProvider({
    path: '/acme',
    client: { clientId: 'sealpost-acme', clientSecret: 'acme-client-secret', redirectUris: [callback('oidc-acme-corp')] },
    accounts: {
      'alice@acme.example': { email: 'alice@acme.example' },
      outsider: { email: 'bob@gmail.com' },
    },
  });
  const env = {
    PORT: String(port),
    SEALPOST_DATA_DIR: dataDir,
    SMTP_URL: sink.url,
    SEALPOST_OUTBOX_POLL_MS: '100',
    SEALPOST_DEMO_TENANT: 'off',
    SEALPOST_GOOGLE_CLIENT_ID: 'sealpost-google',
    SEALPOST_GOOGLE_CLIENT_SECRET: 'google-client-secret',
    SEALPOST_GOOGLE_ISSUER: google.issuer,
    SEALPOST_MICROSOFT_CLIENT_ID: 'sealpost-microsoft',
    SEALPOST_MICROSOFT_CLIENT_SECRET: 'microsoft-client-secret',
    SEALPOST_MICROSOFT_ISSUER: microsoft.issuer,
  };
  const server = await startServer(env);
  const cliEnv = env;

  const linkIn = (address: string, subject = 'Your statement', from = 0) => linkFor({ sink, address, subject, from });

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

  for (const [slug, name] of [
    ['acme', 'Acme Bank'],
    ['beta', 'Beta Clinic'],
  ]) {
    expect(runCli(['tenant', 'create', slug!, '--name', name!, '--domain', `${slug}.example`], cliEnv).status).toBe(0);
  }
  const secretFile = path.join(dataDir, 'acme-idp-secret');
  fs.writeFileSync(secretFile, 'acme-client-secret\n');
  const added = await runCliAsync(
    [
      'idp',
      'add',
      '--tenant',
      'acme',
      '--name',
      'corp',
      '--display',
      'Acme staff',
      '--issuer',
      acmeIdp.issuer,
      '--client-id',
      'sealpost-acme',
      '--client-secret-file',
      secretFile,
      '--trust-domain',
      'acme.example',
    ],
    cliEnv,
  );
  expect(added.status, added.stderr).toBe(0);
  expect(added.json.redirectUri).toBe(callback('oidc-acme-corp'));
  setBranding('acme', { signInMethods: { oidc: ['corp'] } });
  const links: Record<string, string> = {};
  await send('acme', ['bob@gmail.com', 'carol@yahoo.com', 'dave@contoso.example', 'frank@outlook.example']);
  for (const a of ['bob@gmail.com', 'carol@yahoo.com', 'dave@contoso.example', 'frank@outlook.example']) links[`acme:${a}`] = linkIn(a);
  const beta = await send('beta', ['bob@gmail.com']);
  links['beta:bob@gmail.com'] = linkIn('bob@gmail.com', 'Your statement', beta.from);
  const browser = await launchBrowser();

  // Signs in at a provider and waits for the page the sign-in ends on; its status and the cookies.
  async function refusedAfter({ link, button, login }: TSignInAt) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link);
    await page.getByRole('button', { name: button }).click();
    const completed = page.waitForResponse((r) => r.url().includes('/federated/complete'));
    await signInAtProvider(page, login);
    const response = await completed;
    await page.getByRole('heading', { level: 1 }).waitFor();
    return {
      context,
      page,
      status: response.status(),
      heading: await page.getByRole('heading', { level: 1 }).textContent(),
      cookies: (await context.cookies()).map((c) => c.name),
    };
  }

  // A sign-in stopped where the provider sends the browser back: the callback address it was given
  // (code, state) and the browser's cookies on the auth host (its binding, next-auth's checks). The
  // provider's login form is sent through the browser context's own request client (same cookies),
  // so the redirect back can be read instead of followed.
  async function pausedAtCallback({ link, button, login }: TSignInAt): Promise<TPaused> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link);
    await page.getByRole('button', { name: button }).click();
    await page.locator('input[name="login"]').waitFor();
    const action = new URL((await page.locator('form').first().getAttribute('action'))!, page.url()).toString();
    let response = await context.request.post(action, { form: { prompt: 'login', login, password: 'any password' }, maxRedirects: 0 });
    for (let hops = 0; hops < 5 && !String(response.headers().location).startsWith(`${authOrigin}/api/auth/callback/`); hops += 1) {
      response = await context.request.get(new URL(response.headers().location!, action).toString(), { maxRedirects: 0 });
    }
    const location = response.headers().location;
    if (!location?.startsWith(`${authOrigin}/api/auth/callback/`))
      throw new Error(`the provider did not redirect back: ${response.status()}`);
    const cookies = Object.fromEntries((await context.cookies(authOrigin)).map((c) => [c.name, c.value]));
    return { context, callbackUrl: new URL(location), cookies };
  }

  // The callback as the browser would deliver it, with exactly these cookies.
  async function deliver(url: URL, cookies: Record<string, string>, providerPath = url.pathname): Promise<THttpResponse> {
    const cookie = Object.entries(cookies)
      .map(([n, v]) => `${n}=${v}`)
      .join('; ');
    return requestAs(port, `auth.localhost:${port}`, `${providerPath}${url.search}`, { headers: { cookie } });
  }

  const isHandedOff = (r: THttpResponse) =>
    r.status === 303 && String(r.headers.location).startsWith(`http://acme.localhost:${port}/federated/complete?`);
  const isSentBack = (r: THttpResponse) =>
    r.status === 303 && /^http:\/\/acme\.localhost:\d+\/r\/[^/?]+\?error=FEDERATED_FAILED$/.test(String(r.headers.location));

  return {
    sink,
    server,
    browser,
    cliEnv,
    dataDir,
    port,
    authOrigin,
    google,
    microsoft,
    acmeIdp,
    links,
    callback,
    linkIn,
    signInAtProvider,
    setBranding,
    refusedAfter,
    pausedAtCallback,
    deliver,
    isHandedOff,
    isSentBack,
    async stop() {
      await browser.close();
      await server.stop();
      await Promise.all([google.close(), microsoft.close(), acmeIdp.close(), sink.close()]);
    },
  };
}
