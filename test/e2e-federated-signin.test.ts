import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, PHONE } from './helpers/browser';
import { runCli, runCliAsync } from './helpers/cli';
import { sampleEml } from './helpers/context';
import { shot, SETUP_TIMEOUT_MS, startFederated, type TFederated } from './helpers/federated';
import { requestAs } from './helpers/server';

// Signing in with Google, Microsoft and a tenant's own provider in Chromium: the step to the
// provider, an abandoned sign-in, addresses that are not proven, the methods a template turns on,
// and `sealpost idp`.

let federated: TFederated | undefined;
let {
  sink,
  browser,
  cliEnv,
  dataDir,
  port,
  authOrigin,
  google,
  acmeIdp,
  links,
  callback,
  linkIn,
  signInAtProvider,
  setBranding,
  refusedAfter,
} = {} as TFederated;
beforeAll(async () => {
  federated = await startFederated();
  ({
    sink,
    browser,
    cliEnv,
    dataDir,
    port,
    authOrigin,
    google,
    acmeIdp,
    links,
    callback,
    linkIn,
    signInAtProvider,
    setBranding,
    refusedAfter,
  } = federated);
}, SETUP_TIMEOUT_MS);
afterAll(() => federated?.stop());

describe('federated sign-in in Chromium', () => {
  it('Google: sign in at the provider and land back on the tenant host with the message — on two tenant hosts through the one redirect URI', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const redirectUris: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin === new URL(google.issuer).origin && url.pathname.endsWith('/auth'))
        redirectUris.push(url.searchParams.get('redirect_uri') ?? '');
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

describe('the step to the provider', () => {
  it("is a page in the tenant's branding that moves on by itself, with a Continue button for when it does not", async () => {
    const token = links['acme:bob@gmail.com']!.split('/r/')[1]!;
    const started = await requestAs(port, `acme.localhost:${port}`, `/r/${token}/federated`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: 'provider=microsoft',
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

describe("the address must be proven, and a recipient's", () => {
  it.each([
    [
      'Google says email_verified: false',
      'acme:carol@yahoo.com',
      'Sign in with Google',
      'unverified',
      'Google did not confirm your email address',
    ],
    ['Google gives a bare email claim', 'acme:carol@yahoo.com', 'Sign in with Google', 'bare', 'Google did not confirm your email address'],
    [
      'email_verified is the string "true", not true',
      'acme:carol@yahoo.com',
      'Sign in with Google',
      'string-true',
      'Google did not confirm your email address',
    ],
    ['no email at all', 'acme:carol@yahoo.com', 'Sign in with Google', 'no-email', 'Google did not confirm your email address'],
    [
      'Microsoft, a directory without the domain (nOAuth)',
      'acme:dave@contoso.example',
      'Sign in with Microsoft',
      'nOAuth',
      'Microsoft did not confirm your email address',
    ],
    [
      'Microsoft, the directory claims email_verified itself',
      'acme:dave@contoso.example',
      'Sign in with Microsoft',
      'nOAuth-claims-verified',
      'Microsoft did not confirm your email address',
    ],
    [
      "the tenant's provider, outside the domains it is trusted for",
      'acme:bob@gmail.com',
      'Sign in with Acme staff',
      'outsider',
      'Acme staff did not confirm your email address',
    ],
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

  it("the organisation's own provider: the sender reads a reply by signing in with it", async () => {
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
      requestAs(port, `acme.localhost:${port}`, `/r/${token}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
        body,
      });
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
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: 'provider=google',
    });
    expect(r.status).toBe(403);
  });
});

describe('sealpost idp', () => {
  it("lists a tenant's providers without their secrets, and refuses an incomplete or unreachable one with a clear message", async () => {
    const listed = runCli(['idp', 'list', '--tenant', 'acme'], cliEnv);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.json).toEqual([
      expect.objectContaining({
        name: 'corp',
        displayName: 'Acme staff',
        issuer: acmeIdp.issuer,
        trustedDomains: ['acme.example'],
        redirectUri: callback('oidc-acme-corp'),
      }),
    ]);
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
