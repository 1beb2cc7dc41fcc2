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
    // Without "Keep me signed in": a browser-session cookie; nothing of next-auth's stays behind.
    expect((await context.cookies()).find((c) => c.name === 'sealpost-session')!.expires).toBe(-1);
    expect((await context.cookies(authOrigin)).map((c) => c.name).filter((n) => /session-token|sealpost-auth-signin/.test(n))).toEqual([]);
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
    await shot(page, '3-landing-phone');
    await page.getByLabel('Keep me signed in on this device').check();
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await signInAtProvider(page, 'dave@contoso.example');
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    await shot(page, '3b-microsoft-phone');
    // "Keep me signed in" works as with a passcode: a cookie that outlives the browser, 12 hours.
    const kept = (await context.cookies()).find((c) => c.name === 'sealpost-session')!;
    expect(kept.expires * 1000).toBeGreaterThan(Date.now() + 11 * 3600_000);
    expect(kept.httpOnly).toBe(true);
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

// Signs in at a provider and waits for the page the sign-in ends on; its status and the cookies.
async function refusedAfter({ link, button, login }: { link: string; button: string; login: string }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: button }).click();
  const completed = page.waitForResponse((r) => r.url().includes('/federated/complete'));
  await signInAtProvider(page, login);
  const response = await completed;
  await page.getByRole('heading', { level: 1 }).waitFor();
  return { context, page, status: response.status(), heading: await page.getByRole('heading', { level: 1 }).textContent(), cookies: (await context.cookies()).map((c) => c.name) };
}

describe('the step to the provider', () => {
  it('is a page in the tenant\'s branding that moves on by itself, with a Continue button for when it does not', async () => {
    const token = links['acme:bob@gmail.com']!.split('/r/')[1]!;
    const started = await requestAs(port, `acme.localhost:${port}`, `/r/${token}/federated`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: 'provider=microsoft',
    });
    const step = new URL(String(started.headers.location));
    const page = await requestAs(port, step.host, step.pathname, { headers: { 'accept-language': 'en' } });
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<meta http-equiv="refresh" content="0;url=${step.pathname}/go"/>`);
    expect(page.body).not.toContain('<script');
    expect(String(page.headers['set-cookie'])).toMatch(/sealpost-auth-signin=.*HttpOnly/);
    // Taken over once: the same address again is refused.
    expect((await requestAs(port, step.host, step.pathname)).status).toBe(400);
    // (setContent needs script in the page's world; the page itself has none.)
    const context = await browser.newContext(PHONE);
    const view = await context.newPage();
    await view.setContent(page.body.replace(/<meta http-equiv="refresh"[^>]*>/, ''));
    await expect(view.getByRole('heading', { name: 'Signing you in with Microsoft' }).isVisible()).resolves.toBe(true);
    await expect(view.getByRole('link', { name: 'Continue' }).getAttribute('href')).resolves.toBe(`${step.pathname}/go`);
    expect(await accessibilityViolations(view)).toEqual([]);
    await shot(view, '3a-to-provider-phone');
    await context.close();
  });
});

describe('a sign-in abandoned at the provider', () => {
  it('sends the reader back to the message with a way to try again, and signs no one in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(links['acme:carol@yahoo.com']!);
    await page.getByRole('button', { name: 'Sign in with Google' }).click();
    await page.getByRole('link', { name: '[ Cancel ]' }).click();
    // The page's own alert, not the empty one Next.js adds for screen readers once hydrated.
    const alert = page.getByRole('alert').filter({ hasText: /\S/ });
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toBe('Signing in did not complete. Try again, or choose another way to sign in.');
    expect(new URL(page.url()).host).toBe(`acme.localhost:${port}`);
    await expect(page.getByRole('button', { name: 'Sign in with Google' }).isVisible()).resolves.toBe(true);
    expect((await context.cookies()).map((c) => c.name)).not.toContain('sealpost-session');
    await context.close();
  });
});

describe('the address must be proven, and a recipient\'s', () => {
  it.each([
    ['Google says email_verified: false', 'acme:carol@yahoo.com', 'Sign in with Google', 'unverified', 'Google did not confirm your email address'],
    ['Google gives a bare email claim', 'acme:carol@yahoo.com', 'Sign in with Google', 'bare', 'Google did not confirm your email address'],
    ['email_verified is the string "true", not true', 'acme:carol@yahoo.com', 'Sign in with Google', 'string-true', 'Google did not confirm your email address'],
    ['no email at all', 'acme:carol@yahoo.com', 'Sign in with Google', 'no-email', 'Google did not confirm your email address'],
    ['Microsoft, a directory without the domain (nOAuth)', 'acme:dave@contoso.example', 'Sign in with Microsoft', 'nOAuth', 'Microsoft did not confirm your email address'],
    ['Microsoft, the directory claims email_verified itself', 'acme:dave@contoso.example', 'Sign in with Microsoft', 'nOAuth-claims-verified', 'Microsoft did not confirm your email address'],
    ['the tenant\'s provider, outside the domains it is trusted for', 'acme:bob@gmail.com', 'Sign in with Acme staff', 'outsider', 'Acme staff did not confirm your email address'],
  ])('refused: %s (403, no session)', async (_name, link, button, login, heading) => {
    const refused = await refusedAfter({ link: links[link]!, button, login });
    expect(refused.status).toBe(403);
    expect(refused.heading).toBe(heading);
    expect(refused.cookies).not.toContain('sealpost-session');
    await refused.context.close();
  });

  it('a verified address that is not a recipient: a clear page, and a way to switch account', async () => {
    const refused = await refusedAfter({ link: links['acme:bob@gmail.com']!, button: 'Sign in with Google', login: 'stranger@gmail.com' });
    expect(refused.status).toBe(403);
    expect(refused.heading).toBe('This message was not sent to stranger@gmail.com');
    await shot(refused.page, '4-not-recipient');
    expect(await accessibilityViolations(refused.page)).toEqual([]);
    // The provider is asked to let the reader choose again (here: sign in again).
    await refused.page.getByRole('button', { name: 'Sign in with a different account' }).click();
    await signInAtProvider(refused.page, 'bob@gmail.com');
    await refused.page.getByRole('heading', { name: 'Your statement' }).waitFor();
    await refused.context.close();
  });

  it('the organisation\'s own provider: the sender reads a reply by signing in with it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(links['acme:bob@gmail.com']!);
    await page.getByRole('button', { name: 'Sign in with Google' }).click();
    await signInAtProvider(page, 'bob@gmail.com');
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await page.getByLabel('Message').fill('Received, thank you.');
    const before = sink.mails.length;
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('status').waitFor();
    await context.close();
    await sink.waitFor(before + 1);
    const alice = await browser.newContext();
    const alicePage = await alice.newPage();
    await alicePage.goto(linkIn('alice@acme.example', 'Re: Your statement', before));
    await alicePage.getByRole('button', { name: 'Sign in with Acme staff' }).click();
    await signInAtProvider(alicePage, 'alice@acme.example');
    await alicePage.getByRole('heading', { name: 'Re: Your statement' }).waitFor();
    await expect(alicePage.locator('article').textContent()).resolves.toContain('Received, thank you.');
    await alice.close();
  });
});

type TPaused = { context: BrowserContext; callbackUrl: URL; cookies: Record<string, string> };

// A sign-in stopped where the provider sends the browser back: the callback address it was given
// (code, state) and the browser's cookies on the auth host (its binding, next-auth's checks). The
// provider's login form is sent through the browser context's own request client (same cookies),
// so the redirect back can be read instead of followed.
async function pausedAtCallback({ link, button, login }: { link: string; button: string; login: string }): Promise<TPaused> {
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
  if (!location?.startsWith(`${authOrigin}/api/auth/callback/`)) throw new Error(`the provider did not redirect back: ${response.status()}`);
  const cookies = Object.fromEntries((await context.cookies(authOrigin)).map((c) => [c.name, c.value]));
  return { context, callbackUrl: new URL(location), cookies };
}

// The callback as the browser would deliver it, with exactly these cookies.
async function deliver(url: URL, cookies: Record<string, string>, providerPath = url.pathname): Promise<THttpResponse> {
  const cookie = Object.entries(cookies).map(([n, v]) => `${n}=${v}`).join('; ');
  return requestAs(port, `auth.localhost:${port}`, `${providerPath}${url.search}`, { headers: { cookie } });
}

const isHandedOff = (r: THttpResponse) => r.status === 303 && String(r.headers.location).startsWith(`http://acme.localhost:${port}/federated/complete?`);
const isSentBack = (r: THttpResponse) => r.status === 303 && /^http:\/\/acme\.localhost:\d+\/r\/[^/?]+\?error=FEDERATED_FAILED$/.test(String(r.headers.location));
const withState = (url: URL, state: string) => {
  const copy = new URL(url);
  copy.searchParams.set('state', state);
  return copy;
};
const bob = { link: '', button: 'Sign in with Google', login: 'bob@gmail.com' };

describe('replays are refused', () => {
  beforeAll(() => {
    bob.link = links['acme:bob@gmail.com']!;
  });

  it('the same callback (code and state) twice: handed off once, refused after', async () => {
    const a = await pausedAtCallback(bob);
    expect(isHandedOff(await deliver(a.callbackUrl, a.cookies))).toBe(true);
    const again = await deliver(a.callbackUrl, a.cookies);
    expect(isHandedOff(again)).toBe(false);
    expect(again.status).toBe(400);
    await a.context.close();
  });

  it('a used authorization code in a new sign-in, a state from another sign-in, an ID token for another nonce', async () => {
    const used = await pausedAtCallback(bob);
    expect(isHandedOff(await deliver(used.callbackUrl, used.cookies))).toBe(true);
    // The code already exchanged, with a fresh sign-in's own state and cookies: the provider refuses.
    const fresh = await pausedAtCallback(bob);
    const replayedCode = new URL(fresh.callbackUrl);
    replayedCode.searchParams.set('code', used.callbackUrl.searchParams.get('code')!);
    expect(isSentBack(await deliver(replayedCode, fresh.cookies))).toBe(true);

    // A state that is not this browser's.
    const c = await pausedAtCallback(bob);
    expect(isSentBack(await deliver(withState(c.callbackUrl, used.callbackUrl.searchParams.get('state')!), c.cookies))).toBe(true);

    // E's sign-in with F's code and F's PKCE verifier: state and PKCE hold, but the ID token carries
    // F's nonce, not E's.
    const e = await pausedAtCallback(bob);
    const f = await pausedAtCallback(bob);
    const pkce = 'next-auth.pkce.code_verifier';
    const mixed = { ...e.cookies, [pkce]: f.cookies[pkce]! };
    expect(isSentBack(await deliver(withState(f.callbackUrl, e.callbackUrl.searchParams.get('state')!), mixed))).toBe(true);
    // The harness itself delivers a good sign-in: a sign-in with its own cookies is handed off.
    const g = await pausedAtCallback(bob);
    expect(isHandedOff(await deliver(g.callbackUrl, g.cookies))).toBe(true);
    for (const p of [used, fresh, c, e, f, g]) await p.context.close();
  });

  it('a callback for one provider, replayed at another provider\'s address', async () => {
    const h = await pausedAtCallback(bob);
    expect(isSentBack(await deliver(h.callbackUrl, h.cookies, '/api/auth/callback/microsoft'))).toBe(true);
    expect(isHandedOff(await deliver(h.callbackUrl, h.cookies))).toBe(false);
    await h.context.close();
  });
});

describe('the hand-off to the tenant host', () => {
  beforeAll(() => {
    bob.link = links['acme:bob@gmail.com']!;
  });

  it('is taken once, only on its tenant\'s host, only in the browser that started the sign-in', async () => {
    const { context, callbackUrl, cookies } = await pausedAtCallback(bob);
    const handoff = new URL(String((await deliver(callbackUrl, cookies)).headers.location));
    expect(handoff.origin).toBe(`http://acme.localhost:${port}`);
    const binding = (await context.cookies(`http://acme.localhost:${port}`)).find((c) => c.name === 'sealpost-federated')!;
    const target = `${handoff.pathname}${handoff.search}`;
    const take = (host: string, cookie?: string) => requestAs(port, `${host}:${port}`, target, { headers: cookie ? { cookie } : {} });
    const withBinding = `sealpost-federated=${binding.value}`;
    const otherTenant = await take('beta.localhost', withBinding);
    expect(otherTenant.status).toBe(400);
    expect(otherTenant.body).toContain('This sign-in cannot be used');
    expect((await take('acme.localhost')).status).toBe(400);
    const taken = await take('acme.localhost', withBinding);
    expect(taken.status).toBe(303);
    expect(taken.headers.location).toMatch(/^\/m\/[0-9a-f-]{36}$/);
    expect(String(taken.headers['set-cookie'])).toContain('sealpost-session=');
    expect((await take('acme.localhost', withBinding)).status).toBe(400);
    await context.close();
  });
});

describe('sign-in methods per template', () => {
  it('shows only what the template turns on, and refuses the rest on the server', async () => {
    setBranding('acme', { signInMethods: { passcode: false, microsoft: false, oidc: ['corp'] } }, 'googleonly');
    const eml = path.join(dataDir, 'googleonly.eml');
    fs.writeFileSync(eml, sampleEml({ to: ['kim@example.org'] }));
    const before = sink.mails.length;
    expect(runCli(['send', '--tenant', 'acme', '--template', 'googleonly', eml], cliEnv).status).toBe(0);
    await sink.waitFor(before + 1);
    const link = linkIn('kim@example.org', 'Your statement', before);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link);
    const buttons = await page.getByRole('button').allTextContents();
    expect(buttons).toEqual(['Sign in with Google', 'Sign in with Acme staff']);
    await context.close();
    // In the reader's language too.
    const taiwan = await browser.newContext({ locale: 'zh-TW' });
    const zhPage = await taiwan.newPage();
    await zhPage.goto(link);
    await expect(zhPage.getByRole('button').allTextContents()).resolves.toEqual(['使用 Google 登入', '使用 Acme staff 登入']);
    await taiwan.close();
    const token = link.split('/r/')[1]!;
    const post = (path: string, body = '') =>
      requestAs(port, `acme.localhost:${port}`, `/r/${token}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body });
    expect((await post('/passcode')).status).toBe(403);
    expect((await post('/federated', 'provider=microsoft')).status).toBe(403);
    expect((await post('/federated', 'provider=oidc-beta-corp')).status).toBe(403);
    expect((await post('/federated', 'provider=')).status).toBe(403);
    const google = await post('/federated', 'provider=google');
    expect(google.status).toBe(303);
    expect(google.headers.location).toMatch(new RegExp(`^${authOrigin}/federated/[A-Za-z0-9_-]{22}$`));
  });

  it('a sign-in started from a foreign origin is refused (CSRF)', async () => {
    const token = links['acme:bob@gmail.com']!.split('/r/')[1]!;
    const r = await requestAs(port, `acme.localhost:${port}`, `/r/${token}/federated`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' }, body: 'provider=google',
    });
    expect(r.status).toBe(403);
  });
});

const REDIRECT_DIR = new URL('./corpora/redirect/', import.meta.url);
const REDIRECTS = fs
  .readdirSync(REDIRECT_DIR)
  .filter((f) => f.endsWith('.txt') && !f.startsWith('LICENSE'))
  .flatMap((f) => fs.readFileSync(new URL(f, REDIRECT_DIR), 'utf8').split('\n'))
  .map((line) => line.replace(/\r$/, ''))
  .filter((line) => line.trim() !== '');
// A request target as a browser sends it: anything outside printable ASCII percent-encoded.
const asTarget = (path: string) => path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
const RETURN_PARAMS = ['callbackUrl', 'returnTo', 'return_to', 'next', 'redirect', 'redirect_uri', 'url'];

describe(`open redirects (${REDIRECTS.length} corpus URLs)`, () => {
  it('no corpus URL, as a callback or return URL or as a path, sends a browser off the tenant\'s or the auth host\'s origin', async () => {
    const acme = `http://acme.localhost:${port}`;
    const allowed = new Set([acme, authOrigin]);
    const token = links['acme:bob@gmail.com']!.split('/r/')[1]!;
    let tried = 0;
    const check = async (host: 'acme' | 'auth', target: string, cookie = '') => {
      const origin = host === 'acme' ? acme : authOrigin;
      const r = await requestAs(port, new URL(origin).host, asTarget(target), { headers: cookie ? { cookie } : {} });
      tried += 1;
      const destinations = [r.headers.location, ...[...r.body.matchAll(/http-equiv="refresh" content="0;url=([^"]*)"/g)].map((m) => m[1])].filter(Boolean) as string[];
      for (const d of destinations) {
        const resolved = new URL(d.replaceAll('&amp;', '&'), `${origin}${asTarget(target).startsWith('/') ? '' : '/'}`);
        if (!allowed.has(resolved.origin)) throw new Error(`${host} ${target} → ${d} (${resolved.origin})`);
      }
    };
    for (const payload of REDIRECTS) {
      const returns = RETURN_PARAMS.map((p) => `${p}=${encodeURIComponent(payload)}`).join('&');
      const callbackCookie = `next-auth.callback-url=${encodeURIComponent(payload)}`;
      if (payload.startsWith('/')) {
        await check('acme', payload);
        await check('auth', payload);
      }
      await check('acme', `/r/${token}?${returns}`);
      await check('acme', `/federated/complete?id=AAAAAAAAAAAAAAAAAAAAAA&h=x&${returns}`);
      await check('auth', `/federated/error?${returns}`, callbackCookie);
      await check('auth', `/federated/AAAAAAAAAAAAAAAAAAAAAA?${returns}`);
      await check('auth', `/api/auth/signin/google?${returns}`, callbackCookie);
      await check('auth', `/api/auth/callback/google?code=x&state=y&${returns}`, callbackCookie);
    }
    expect(tried).toBeGreaterThan(REDIRECTS.length * 6);
  });

  it('a good sign-in carrying corpus URLs as callback URLs still hands off to the tenant host only', async () => {
    for (const payload of [REDIRECTS[0]!, REDIRECTS.find((p) => p.startsWith('/\\'))!, REDIRECTS.at(-1)!]) {
      const paused = await pausedAtCallback({ link: links['acme:bob@gmail.com']!, button: 'Sign in with Google', login: 'bob@gmail.com' });
      const url = new URL(paused.callbackUrl);
      for (const p of RETURN_PARAMS) url.searchParams.set(p, payload);
      const r = await deliver(url, { ...paused.cookies, 'next-auth.callback-url': encodeURIComponent(payload) });
      expect(isHandedOff(r), `${payload} → ${r.headers.location}`).toBe(true);
      await paused.context.close();
    }
  });
});

describe('sealpost idp', () => {
  it('lists a tenant\'s providers without their secrets, and refuses an incomplete or unreachable one with a clear message', async () => {
    const listed = runCli(['idp', 'list', '--tenant', 'acme'], cliEnv);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.json).toEqual([expect.objectContaining({ name: 'corp', displayName: 'Acme staff', issuer: acmeIdp.issuer, trustedDomains: ['acme.example'], redirectUri: callback('oidc-acme-corp') })]);
    expect(listed.stdout).not.toContain('acme-client-secret');
    const base = ['idp', 'add', '--tenant', 'acme', '--name', 'other', '--display', 'Other', '--client-id', 'x'];
    const noSecret = await runCliAsync([...base, '--issuer', acmeIdp.issuer], cliEnv);
    expect(noSecret.status).not.toBe(0);
    expect(noSecret.stderr).toContain('--client-secret-file');
    const secretFile = path.join(dataDir, 'other-secret');
    fs.writeFileSync(secretFile, 's');
    const down = await runCliAsync([...base, '--issuer', 'http://127.0.0.1:9/nothing', '--client-secret-file', secretFile], cliEnv);
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('Could not read http://127.0.0.1:9/nothing/.well-known/openid-configuration');
    const wrongTemplate = path.join(dataDir, 'wrong.json');
    fs.writeFileSync(wrongTemplate, JSON.stringify({ signInMethods: { oidc: ['other'] } }));
    const refused = runCli(['branding', 'set', '--tenant', 'acme', '--template', 'wrong', wrongTemplate], cliEnv);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('no identity provider named other');
  });
});

describe('the auth host', () => {
  it('serves federated sign-in and nothing else, and no other host serves it', async () => {
    const status = async (host: string, target: string) => (await requestAs(port, `${host}:${port}`, target)).status;
    for (const target of ['/', '/mailbox', '/api/health', '/api/v1/messages', '/api/auth/providers', '/api/auth/session', '/api/auth/csrf', '/api/auth/signin/google', '/api/auth/signout', '/r/x', '/m/x']) {
      expect(await status('auth.localhost', target), target).toBe(404);
    }
    // next-auth's own sign-in and error pages are never shown: they end the sign-in.
    for (const target of ['/api/auth/signin', '/api/auth/error?error=OAuthCallback']) {
      expect((await requestAs(port, `auth.localhost:${port}`, target)).headers.location).toBe(`${authOrigin}/federated/error`);
    }
    expect(await status('acme.localhost', '/api/auth/callback/google?code=x&state=y')).toBe(404);
    expect(await status('localhost', '/api/auth/callback/google?code=x&state=y')).toBe(404);
    expect(await status('localhost', '/federated/AAAAAAAAAAAAAAAAAAAAAA')).toBe(404);
    expect(await status('127.0.0.1', '/federated/error')).toBe(404);
  });

  it('logs no client secret, code, state or address of a sign-in', async () => {
    // One more sign-in that fails, so that there is a failure to log.
    const paused = await pausedAtCallback({ link: links['acme:bob@gmail.com']!, button: 'Sign in with Google', login: 'stranger@gmail.com' });
    expect(isSentBack(await deliver(paused.callbackUrl, paused.cookies, '/api/auth/callback/microsoft'))).toBe(true);
    await paused.context.close();
    const logs = server.output();
    expect(logs).toContain('"reason":"wrong_provider","msg":"federated sign-in failed"');
    expect(logs).not.toContain(paused.callbackUrl.searchParams.get('code')!);
    expect(logs).not.toContain(paused.callbackUrl.searchParams.get('state')!);
    for (const secret of ['google-client-secret', 'microsoft-client-secret', 'acme-client-secret', 'stranger@gmail.com', 'code=', 'state=']) {
      expect(logs, secret).not.toContain(secret);
    }
  });
});
