import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PHONE } from './helpers/browser';
import { cookieHeader, SETUP_TIMEOUT_MS, startPortal, type TPortal } from './helpers/portal';
import { requestAs } from './helpers/server';

// The recipient's pages go out without Next.js's client runtime (lib/http/script-free-pages.ts):
// a browser with JavaScript on loads no script on the landing, passcode and message pages, the
// journey works all the same, and the pages forbid scripts outright. The reply page carries one
// inline script (its attachment check) in place of the runtime; the error pages Next.js draws in
// the browser keep theirs (the message page draws its own, on the server).

// The issue's budget for the recipient pages' first-load JavaScript; they now need none of it.
const FIRST_LOAD_JS_BUDGET = 100 * 1024;

let portal: TPortal | undefined;
beforeAll(async () => {
  portal = await startPortal();
}, SETUP_TIMEOUT_MS);
afterAll(() => portal?.stop());

// Every script the page fetched (its URL and body size), every stylesheet, and every console error.
function watch(page: Page) {
  const scripts: { url: string; bytes: number }[] = [];
  const stylesheets: string[] = [];
  const errors: string[] = [];
  page.on('request', (req) => {
    if (req.resourceType() === 'stylesheet') stylesheets.push(new URL(req.url()).pathname);
  });
  page.on('response', async (res) => {
    if (res.request().resourceType() === 'script') scripts.push({ url: new URL(res.url()).pathname, bytes: (await res.body()).length });
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return { scripts, stylesheets, errors };
}

const SCRIPT_FREE_CSP = /(?:^|;\s*)script-src 'none'(?:;|$)/;

describe('the recipient pages without JavaScript of their own', () => {
  it('link → passcode → message with JavaScript on: no script fetched or run, well under the 100 KB budget, no console error', async () => {
    const { browser, signIn, messageId } = portal!;
    const context = await browser.newContext({ ...PHONE });
    const page = await context.newPage();
    const { scripts, stylesheets, errors } = watch(page);
    const visited: string[] = [];
    await signIn(page, 'bob@gmail.com', 'script-free', async (p) => {
      visited.push(new URL(p.url()).pathname);
      // Nothing in the document asks for a script: no <script>, no script preload.
      await expect(p.locator('script, link[as="script"], link[rel="modulepreload"]').count()).resolves.toBe(0);
      // The stylesheet is inside the document (no request to wait for, no unstyled layout to redo),
      // and applied: the header has the tenant's colour behind it (unstyled, it would be transparent).
      await expect(p.locator('link[rel="stylesheet"]').count()).resolves.toBe(0);
      await expect(p.locator('head style').count()).resolves.toBeGreaterThan(0);
      await expect(p.locator('header').evaluate((h) => getComputedStyle(h).backgroundColor)).resolves.not.toBe('rgba(0, 0, 0, 0)');
    });
    expect(visited).toEqual([expect.stringMatching(/^\/r\/[^/]+$/), expect.stringMatching(/^\/r\/[^/]+\/verify$/), `/m/${messageId}`]);
    await page.waitForLoadState('networkidle');
    expect(scripts).toEqual([]);
    expect(stylesheets).toEqual([]);
    expect(scripts.reduce((n, s) => n + s.bytes, 0)).toBeLessThanOrEqual(FIRST_LOAD_JS_BUDGET);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the pages answer with script-src none, the reply page with only its attachment check, allowed by its hash', async () => {
    const { browser, signIn, messageId, server, links } = portal!;
    const host = `acme.localhost:${server.port}`;
    const landing = await requestAs(server.port, host, new URL(links['carol@yahoo.com']!).pathname);
    expect(landing.status).toBe(200);
    expect(landing.headers['content-security-policy']).toMatch(SCRIPT_FREE_CSP);
    expect(landing.body).not.toMatch(/<script\b|self\.__next_f/);
    // Its stylesheet is inlined, so nothing tells the browser to fetch it as well.
    expect(landing.body).not.toMatch(/<link\b[^>]*rel="stylesheet"/);
    expect(String(landing.headers.link ?? '')).not.toMatch(/\.css>/);

    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'carol@yahoo.com', 'script-free-csp');
    const cookie = await cookieHeader(context);
    const message = await requestAs(server.port, host, `/m/${messageId}`, { headers: { cookie, 'accept-encoding': 'gzip' } });
    expect(message.status).toBe(200);
    expect(message.headers['content-security-policy']).toMatch(SCRIPT_FREE_CSP);
    // Compressed here, since Next.js's own compression is bypassed for these pages; sent whole.
    expect(message.headers['content-encoding']).toBe('gzip');
    expect(Number(message.headers['content-length'])).toBeGreaterThan(0);

    const { scripts, errors } = watch(page);
    await page.goto(`${new URL(page.url()).origin}/m/${messageId}/reply`);
    await page.getByRole('heading', { name: 'Re: Your statement' }).waitFor();
    await page.waitForLoadState('networkidle');
    // The reply page fetches no script either: its attachment check is one inline script, allowed
    // by its hash alone, and it runs (too much to attach is refused in the page).
    expect(scripts).toEqual([]);
    await expect(page.locator('script').count()).resolves.toBe(1);
    await page.getByLabel(/Attachments/).setInputFiles([
      { name: 'a.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(11 * 1024 * 1024) },
      { name: 'b.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(11 * 1024 * 1024) },
    ]);
    await expect(page.getByLabel(/Attachments/).evaluate((e) => (e as HTMLInputElement).validationMessage)).resolves.toMatch(/too large/i);
    await page.getByLabel(/Attachments/).setInputFiles({ name: 'c.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4') });
    await expect(page.getByLabel(/Attachments/).evaluate((e) => (e as HTMLInputElement).validity.valid)).resolves.toBe(true);
    expect(errors).toEqual([]);
    const reply = await requestAs(server.port, host, `/m/${messageId}/reply`, { headers: { cookie } });
    expect(reply.headers['content-security-policy']).toMatch(/(?:^|;\s*)script-src 'sha256-[A-Za-z0-9+/]+=*'(?:;|$)/);
    expect(reply.body).not.toMatch(/self\.__next_f|\/_next\/static\/[^"]*\.js/);
    await context.close();
  });

  it("the message page's 401 and 403 are whole pages that read without JavaScript; those the reply page throws (drawn by Next.js in the browser) keep their scripts; the 404 is rendered on the server", async () => {
    const { browser, signIn, server, messageId, links } = portal!;
    const origin = new URL(links['dave@example.org']!).origin;
    const someoneElses = '00000000-0000-4000-8000-000000000000';
    // No session, JavaScript off: the tenant's page saying what to do, and no script anywhere.
    const noScript = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
    const plainPage = await noScript.newPage();
    const noSession = await plainPage.goto(`${origin}/m/${messageId}`);
    expect(noSession?.status()).toBe(401);
    await plainPage.getByRole('heading', { name: 'Please sign in' }).waitFor();
    await expect(plainPage.getByText('Acme Bank').first().isVisible()).resolves.toBe(true);
    expect(noSession?.headers()['content-security-policy']).toMatch(SCRIPT_FREE_CSP);
    await expect(plainPage.locator('script').count()).resolves.toBe(0);
    await noScript.close();

    const context = await browser.newContext({ ...PHONE });
    const page = await context.newPage();
    const { scripts, errors } = watch(page);
    await signIn(page, 'dave@example.org', 'script-free-errors');
    const other = await page.goto(`${origin}/m/${someoneElses}`);
    expect(other?.status()).toBe(403);
    await page.getByRole('heading', { name: 'This message was not sent to you' }).waitFor();
    expect(await other?.text()).toContain('This message was not sent to you');
    expect(other?.headers()['content-security-policy']).toMatch(SCRIPT_FREE_CSP);
    expect(scripts).toEqual([]);
    // The reply page is drawn by the App Router: its 403 is Next.js's error shell, which keeps the
    // nonce policy its scripts need, and none of them is refused.
    const otherReply = await page.goto(`${origin}/m/${someoneElses}/reply`);
    expect(otherReply?.status()).toBe(403);
    await page.getByRole('heading', { name: 'This message was not sent to you' }).waitFor();
    expect(otherReply?.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-/);
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
    await context.close();

    // No such page on a tenant host: Next.js's own 404 was drawn by its runtime, ours on the server.
    const noJs = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
    const plain = await noJs.newPage();
    const missing = await plain.goto(`${origin}/no-such-page`);
    expect(missing?.status()).toBe(404);
    await plain.getByRole('heading', { name: 'This page does not exist' }).waitFor();
    await expect(plain.getByText('Acme Bank').first().isVisible()).resolves.toBe(true);
    await noJs.close();
    const unknownTenant = await requestAs(server.port, `nobody.localhost:${server.port}`, '/no-such-page');
    expect(unknownTenant.status).toBe(404);
    expect(unknownTenant.body).toContain('This page does not exist');
    const unknownTenantMessage = await requestAs(server.port, `nobody.localhost:${server.port}`, `/m/${messageId}`);
    expect(unknownTenantMessage.status).toBe(404);
    expect(unknownTenantMessage.body).toContain('This page does not exist');
    expect(unknownTenantMessage.body).not.toContain('Acme Bank');
  });
});
