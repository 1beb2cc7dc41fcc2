import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE } from './helpers/browser';
import { runCli } from './helpers/cli';
import { expectAccessible, cookieHeader, ATTACHMENT, SETUP_TIMEOUT_MS, startPortal, type TPortal } from './helpers/portal';
import { shot } from './helpers/screenshots';
import { requestAs } from './helpers/server';

// The reading journey: link → passcode → message → attachment, on a desktop and on a phone,
// message.html opened from disk, the reader's language, the CSP nonce and the favicon.

let portal: TPortal | undefined;
let { server, browser, dataDir, cliEnv, links, passcodeFor, passcodeCount, signIn, messageHtmlFor, readThroughMessageHtml } = {} as TPortal;
beforeAll(async () => {
  portal = await startPortal();
  ({ server, browser, dataDir, cliEnv, links, passcodeFor, passcodeCount, signIn, messageHtmlFor, readThroughMessageHtml } = portal);
}, SETUP_TIMEOUT_MS);
afterAll(() => portal?.stop());

describe('the recipient journey in Chromium', () => {
  it('link → passcode → read → download, on a desktop with JavaScript on; every page passes axe (WCAG 2.2 AA) and the CSP', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await signIn(page, 'bob@gmail.com', 'desktop', expectAccessible);
    // No script on these pages, and none refused: the recipient's pages send none (script-src 'none').
    expect(cspViolations).toEqual([]);
    await expect(page.locator('article').textContent()).resolves.toContain('The secret body: account 12345678.');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'statement.pdf' }).click()]);
    expect(download.suggestedFilename()).toBe('statement.pdf');
    expect(fs.readFileSync((await download.path())!).equals(ATTACHMENT)).toBe(true);
    await context.close();
  });

  it('an HTML body is shown in a sandboxed frame of its own document (/m/<id>/body), not carried in the page', async () => {
    const to = 'frank@example.org';
    const eml = path.join(dataDir, 'html-body.eml');
    fs.writeFileSync(
      eml,
      [
        'From: Alice Example <alice@acme.example>',
        `To: ${to}`,
        'Subject: Your statement',
        'MIME-Version: 1.0',
        'Content-Type: multipart/related; boundary="rel"',
        '',
        '--rel',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<img src="cid:logo@acme.example" alt="Acme Bank logo" width="40" height="40"><h2>Monthly balance</h2><p>Account <b>12345678</b> holds 1,234.56.</p><script>parent.postMessage("ran","*")</script>',
        '--rel',
        'Content-Type: image/png',
        'Content-ID: <logo@acme.example>',
        'Content-Disposition: inline; filename="logo.png"',
        'Content-Transfer-Encoding: base64',
        '',
        // A 1×1 PNG, as a signature logo is sent.
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
        '--rel--',
        '',
      ].join('\r\n'),
    );
    const before = portal!.sink.mails.length;
    const sent = runCli(['send', '--tenant', 'acme', eml], cliEnv);
    expect(sent.status, sent.stderr).toBe(0);
    const mail = (await portal!.sink.waitFor(before + 1)).slice(before).find((m) => m.rcptTo[0] === to)!;
    links[to] = /href="([^"]+\/r\/[^"]+)"/.exec(String(mail.parsed.html))![1]!;
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, to, 'html-body');
    const frame = page.frameLocator('iframe[title="Message body"]');
    await expect(frame.locator('h2').textContent()).resolves.toBe('Monthly balance');
    await expect(frame.locator('body').textContent()).resolves.toContain('Account 12345678 holds 1,234.56.');
    // The inline (cid:) logo is shown: the frame loads data: images only, and it is one.
    const logo = frame.locator('img[alt="Acme Bank logo"]');
    await expect(logo.getAttribute('src')).resolves.toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    await expect(logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).resolves.toBe(1);
    await shot(page, 'html-body-message');
    // The page holds the body's address, not the body: it is sent once, in its own response.
    const html = await page.content();
    expect(html).not.toContain('Monthly balance');
    const src = await page.locator('iframe[title="Message body"]').getAttribute('src');
    expect(src).toBe(`/m/${sent.json.messageId}/body`);
    // Opened on its own, the body is still sandboxed and runs nothing; only our pages may frame it.
    const body = await requestAs(server.port, new URL(page.url()).host, src!, { headers: { cookie: await cookieHeader(context) } });
    expect(body.status).toBe(200);
    const csp = String(body.headers['content-security-policy']);
    expect(csp).toMatch(/sandbox allow-popups allow-popups-to-escape-sandbox/);
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(body.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(body.body).toContain('Monthly balance');
    expect(body.body).not.toContain('<script');
    // Without the reader's session: nothing.
    expect((await requestAs(server.port, new URL(page.url()).host, src!)).status).toBe(401);
    await context.close();
  });

  it('the same journey on a phone with JavaScript disabled', async () => {
    const context = await browser.newContext({ ...PHONE, javaScriptEnabled: false, acceptDownloads: true });
    const page = await context.newPage();
    await signIn(page, 'carol@yahoo.com', 'phone-nojs');
    await expect(page.getByRole('link', { name: 'statement.pdf' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('fits a 360 px screen without horizontal scrolling', async () => {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(links['bob@gmail.com']!);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(360);
    const button = await page.getByRole('button', { name: 'Send me a passcode' }).boundingBox();
    expect(button!.height).toBeGreaterThanOrEqual(44);
    await expectAccessible(page);
    await context.close();
  });
});

describe('message.html', () => {
  it('opened from disk, its button leads to the passcode and the message', async () => {
    const { saved } = await messageHtmlFor({ tenant: 'acme', to: 'erin@example.org' });
    const context = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
    const page = await context.newPage();
    await readThroughMessageHtml(page, saved, 'erin@example.org', 'message-html');
    await expect(page.locator('article').textContent()).resolves.toContain('The secret body');
    // Sign out ends the session, on the server too: a copy of the cookie is worthless after it.
    const copied = await cookieHeader(context);
    const host = new URL(page.url()).host;
    const path = new URL(page.url()).pathname;
    expect((await requestAs(server.port, host, path, { headers: { cookie: copied } })).status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForLoadState();
    const cookieNames = (await context.cookies()).map((c) => c.name);
    expect(cookieNames).not.toContain('sealpost-session');
    expect((await requestAs(server.port, host, path, { headers: { cookie: copied } })).status).toBe(401);
    await context.close();
  });

  it('works for a tenant that keeps no copy of the mail (attachment-only delivery)', async () => {
    const created = runCli(['tenant', 'create', 'lawfirm', '--name', 'Law Firm', '--domain', 'lawfirm.example'], cliEnv);
    expect(created.status, created.stderr).toBe(0);
    const branding = path.join(dataDir, 'lawfirm.json');
    fs.writeFileSync(branding, JSON.stringify({ delivery: { link: false, attachment: true } }));
    expect(runCli(['branding', 'set', '--tenant', 'lawfirm', branding], cliEnv).status).toBe(0);
    const { saved, mail } = await messageHtmlFor({ tenant: 'lawfirm', to: 'frank@example.org' });
    expect(String(mail.parsed.html)).not.toMatch(/\/r\//);
    const context = await browser.newContext();
    const page = await context.newPage();
    await readThroughMessageHtml(page, saved, 'frank@example.org', 'attachment-only');
    await expect(page.locator('article').textContent()).resolves.toContain('The secret body');
    await context.close();
  });

  it('refuses a posted envelope that does not match its token, or another tenant', async () => {
    const { saved } = await messageHtmlFor({ tenant: 'acme', to: 'gina@example.org' });
    const html = fs.readFileSync(saved, 'utf8');
    const rt = /name="rt" value="([^"]+)"/.exec(html)![1]!;
    const envelope = /name="envelope" value="([^"]+)"/.exec(html)![1]!;
    const other = (await messageHtmlFor({ tenant: 'acme', to: 'hal@example.org' })).saved;
    const otherEnvelope = /name="envelope" value="([^"]+)"/.exec(fs.readFileSync(other, 'utf8'))![1]!;
    const post = (host: string, body: string) =>
      requestAs(server.port, `${host}:${server.port}`, '/open', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' },
        body,
      });
    expect((await post('acme.localhost', `rt=${rt}&envelope=${envelope}`)).status).toBe(303);
    expect((await post('acme.localhost', `rt=${rt}&envelope=${otherEnvelope}`)).status).toBe(400);
    expect((await post('acme.localhost', `rt=${rt}&envelope=${envelope.slice(0, -4)}AAAA`)).status).toBe(400);
    expect((await post('lawfirm.localhost', `rt=${rt}&envelope=${envelope}`)).status).toBe(400);
    expect((await post('nope.localhost', `rt=${rt}&envelope=${envelope}`)).status).toBe(404);
  });
});

describe("in the reader's language", () => {
  it('walks the journey in Traditional Chinese (zh-TW, phone, JavaScript off); zh-CN gets Simplified', async () => {
    const { mail } = await messageHtmlFor({ tenant: 'acme', to: 'jane@example.org' });
    const link = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(mail.parsed.html))![1]!;
    const context = await browser.newContext({ ...PHONE, javaScriptEnabled: false, locale: 'zh-TW' });
    const page = await context.newPage();
    await page.goto(link);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-Hant');
    await shot(page, 'zh-Hant-1-landing');
    const before = passcodeCount('jane@example.org');
    await page.getByRole('button', { name: '寄送一次性密碼給我' }).click();
    await page.getByLabel('一次性密碼').fill(await passcodeFor('jane@example.org', before));
    await shot(page, 'zh-Hant-2-passcode');
    await page.getByRole('button', { name: '登入' }).click();
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    await expect(page.getByRole('heading', { name: '附件' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: '全部回覆' }).isVisible()).resolves.toBe(true);
    await shot(page, 'zh-Hant-3-message');
    await context.close();

    const simplified = await browser.newContext({ locale: 'zh-CN' });
    const other = await simplified.newPage();
    await other.goto(link);
    expect(await other.locator('html').getAttribute('lang')).toBe('zh-Hans');
    await expect(other.getByRole('button', { name: '给我发送一次性密码' }).isVisible()).resolves.toBe(true);
    await simplified.close();
  });
});

describe('content security policy', () => {
  it('each page with scripts carries a fresh nonce, and every script on it has that nonce; the recipient pages allow none', async () => {
    const host = `acme.localhost:${server.port}`;
    const nonces = new Set<string>();
    // The tenant's front door keeps Next.js's runtime (only the recipient's pages go without it).
    for (let i = 0; i < 2; i += 1) {
      const res = await requestAs(server.port, host, '/');
      const csp = String(res.headers['content-security-policy']);
      const nonce = /'nonce-([A-Za-z0-9+/=_-]+)'/.exec(csp)?.[1];
      expect(nonce, csp).toBeTruthy();
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      const scripts = [...res.body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
      nonces.add(nonce!);
    }
    expect(nonces.size).toBe(2);
    const landing = await requestAs(server.port, host, new URL(links['bob@gmail.com']!).pathname);
    const csp = String(landing.headers['content-security-policy']);
    expect(csp).toMatch(/(^|; )script-src 'none'(;|$)/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(landing.body).not.toMatch(/<script\b/);
  });
});

describe('favicon', () => {
  it('is served on tenant hosts and the base host, so no page logs a 404 for it', async () => {
    for (const host of [`acme.localhost:${server.port}`, `127.0.0.1:${server.port}`]) {
      const res = await requestAs(server.port, host, '/favicon.ico');
      expect(res.status, host).toBe(200);
      expect(res.headers['content-type']).toMatch(/image\//);
    }
  });
});
