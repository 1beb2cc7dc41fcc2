import fs from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, launchBrowser, PHONE } from './helpers/browser';
import { ROOT, runCli } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { requestAs, startServer, type TServer } from './helpers/server';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const ATTACHMENT = Buffer.from('%PDF-1.4 secret attachment bytes');

let sink: TSmtpSink;
let cliEnv: Record<string, string>;
let dataDir: string;
let server: TServer;
let browser: Browser;
let messageId: string;
const links: Record<string, string> = {};

// The link a recipient finds in their wrapper mail.
function linkFor(address: string): string {
  const mail = sink.mails.find((m) => m.rcptTo[0] === address && /\/r\//.test(String(m.parsed.html)));
  const href = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(mail?.parsed.html))?.[1];
  if (!href) throw new Error(`no wrapper link for ${address}`);
  return href;
}

async function passcodeFor(address: string, seen: number): Promise<string> {
  const start = Date.now();
  for (;;) {
    const mails = sink.mails.filter((m) => m.rcptTo[0] === address && /passcode/i.test(m.parsed.subject ?? ''));
    if (mails.length > seen) return /(\d{8})/.exec(mails.at(-1)!.parsed.subject ?? '')![1]!;
    if (Date.now() - start > 20_000) throw new Error(`no passcode mail for ${address}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const passcodeCount = (address: string) => sink.mails.filter((m) => m.rcptTo[0] === address && /passcode/i.test(m.parsed.subject ?? '')).length;

async function shot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Every page on the way is checked by `check` too, when given (accessibility, say).
async function signIn(page: Page, address: string, label: string, check: (page: Page) => Promise<void> = async () => {}) {
  await page.goto(links[address]!);
  await shot(page, `${label}-1-landing`);
  await check(page);
  const before = passcodeCount(address);
  await page.getByRole('button', { name: 'Send me a passcode' }).click();
  await page.waitForLoadState();
  await shot(page, `${label}-1b-after-request`);
  await page.getByLabel('Passcode').waitFor();
  await shot(page, `${label}-2-passcode`);
  await check(page);
  await page.getByLabel('Passcode').fill(await passcodeFor(address, before));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your statement' }).waitFor();
  await shot(page, `${label}-3-message`);
  await check(page);
}

async function expectAccessible(page: Page) {
  expect(await accessibilityViolations(page), page.url()).toEqual([]);
}

const cookieHeader = async (context: BrowserContext) => (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');

beforeAll(async () => {
  sink = await startSmtpSink();
  dataDir = makeTempDir();
  const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
  server = await startServer(env);
  // The CLI builds the links: it must know the port the portal listens on, as an operator's would.
  cliEnv = { ...env, PORT: String(server.port) };
  runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], cliEnv);
  const file = path.join(dataDir, 'statement.eml');
  fs.writeFileSync(file, sampleEml({ to: ['bob@gmail.com', 'carol@yahoo.com', 'dave@example.org'] }));
  messageId = runCli(['send', '--tenant', 'acme', file], cliEnv).json.messageId;
  await sink.waitFor(3);
  for (const a of ['bob@gmail.com', 'carol@yahoo.com', 'dave@example.org']) links[a] = linkFor(a);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.close();
});

describe('the recipient journey in Chromium', () => {
  it('link → passcode → read → download, on a desktop with JavaScript on; every page passes axe (WCAG 2.2 AA) and the CSP', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await signIn(page, 'bob@gmail.com', 'desktop', expectAccessible);
    // Next.js's scripts run under the nonce policy: the page hydrated without a single refusal.
    expect(cspViolations).toEqual([]);
    await expect(page.locator('article').textContent()).resolves.toContain('The secret body: account 12345678.');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'statement.pdf' }).click()]);
    expect(download.suggestedFilename()).toBe('statement.pdf');
    expect(fs.readFileSync((await download.path())!).equals(ATTACHMENT)).toBe(true);
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

// Sends a message through the CLI and saves one recipient's message.html to disk, as a mail
// client would when the recipient opens the attachment.
async function messageHtmlFor({ tenant, to }: { tenant: string; to: string }) {
  const file = path.join(dataDir, `${tenant}-${to}.eml`);
  fs.writeFileSync(file, sampleEml({ to: [to], from: `Alice Example <alice@${tenant}.example>` }));
  const before = sink.mails.length;
  const sent = runCli(['send', '--tenant', tenant, file], cliEnv);
  expect(sent.status, sent.stderr).toBe(0);
  await sink.waitFor(before + 1);
  const mail = sink.mails.slice(before).find((m) => m.rcptTo[0] === to)!;
  const html = mail.parsed.attachments.find((a) => a.filename === 'message.html')!.content;
  const saved = path.join(dataDir, `${tenant}-${to}-message.html`);
  fs.writeFileSync(saved, html);
  return { saved, mail, messageId: sent.json.messageId as string };
}

async function readThroughMessageHtml(page: Page, saved: string, address: string, label: string) {
  await page.goto(`file://${saved}`);
  await shot(page, `${label}-0-message-html`);
  await page.getByRole('button', { name: 'Read the message' }).click();
  await page.getByRole('button', { name: 'Send me a passcode' }).waitFor();
  const before = passcodeCount(address);
  await page.getByRole('button', { name: 'Send me a passcode' }).click();
  await page.getByLabel('Passcode').fill(await passcodeFor(address, before));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your statement' }).waitFor();
  await shot(page, `${label}-3-message`);
}

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
      requestAs(server.port, `${host}:${server.port}`, '/open', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' }, body });
    expect((await post('acme.localhost', `rt=${rt}&envelope=${envelope}`)).status).toBe(303);
    expect((await post('acme.localhost', `rt=${rt}&envelope=${otherEnvelope}`)).status).toBe(400);
    expect((await post('acme.localhost', `rt=${rt}&envelope=${envelope.slice(0, -4)}AAAA`)).status).toBe(400);
    expect((await post('lawfirm.localhost', `rt=${rt}&envelope=${envelope}`)).status).toBe(400);
    expect((await post('nope.localhost', `rt=${rt}&envelope=${envelope}`)).status).toBe(404);
  });
});

describe('in the reader\'s language', () => {
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

describe('replying', () => {
  it('Reply all with an attachment reaches the original sender, who reads it the same way', async () => {
    const { saved } = await messageHtmlFor({ tenant: 'acme', to: 'ivan@example.org' });
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await readThroughMessageHtml(page, saved, 'ivan@example.org', 'reply');
    await page.getByRole('button', { name: 'Reply all' }).click();
    await page.getByLabel('Message').fill('Thank you, statement received. Signed form attached.');
    // Too much to attach is refused in the page (JavaScript on), before an upload; the text stays.
    const huge = path.join(dataDir, 'huge.bin');
    fs.writeFileSync(huge, Buffer.alloc(21 * 1024 * 1024));
    await page.getByLabel(/Attachments/).setInputFiles(huge);
    const replyUrl = page.url();
    await page.getByRole('button', { name: 'Send' }).click();
    expect(page.url()).toBe(replyUrl);
    expect(await page.getByLabel(/Attachments/).evaluate((e) => (e as HTMLInputElement).validity.customError)).toBe(true);
    await expect(page.getByLabel('Message').inputValue()).resolves.toBe('Thank you, statement received. Signed form attached.');
    const form = path.join(dataDir, 'signed-form.pdf');
    fs.writeFileSync(form, Buffer.from('%PDF-1.4 signed form from ivan'));
    await page.getByLabel(/Attachments/).setInputFiles(form);
    await page.getByLabel('Send me a copy of my reply').check();
    await shot(page, 'reply-1-compose');
    await expectAccessible(page);
    const before = sink.mails.length;
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('status').waitFor();
    await shot(page, 'reply-2-sent');

    // The reader sees their reply in the conversation, reads it, and asks for another copy.
    await expect(page.getByRole('heading', { name: 'Your replies' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page);
    await page.locator('section[aria-labelledby="conversation"] a').first().click();
    await page.getByRole('heading', { name: 'Re: Your statement' }).waitFor();
    await expect(page.locator('article').textContent()).resolves.toContain('Thank you, statement received.');
    await expect(page.getByRole('button', { name: 'Reply' }).count()).resolves.toBe(0);
    await shot(page, 'reply-4-own-reply');
    await page.getByRole('button', { name: 'Send me a copy' }).click();
    await page.getByRole('status').waitFor();
    await expect(page.getByRole('status').textContent()).resolves.toContain('ivan@example.org');
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Back to the message' }).click();
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    await context.close();
    // Two copies reach Ivan (asked for when replying, and afterwards), encrypted like any message.
    const start = Date.now();
    const copies = () => sink.mails.slice(before).filter((m) => m.rcptTo[0] === 'ivan@example.org' && m.parsed.subject === 'Re: Your statement');
    while (copies().length < 2 && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 100));
    expect(copies()).toHaveLength(2);
    for (const copy of copies()) expect(copy.raw.toString('latin1')).not.toContain('Thank you, statement received');

    // The original sender receives the reply as a Sealpost wrapper, threaded under the original.
    const wrapper = sink.mails.slice(before).find((m) => m.rcptTo[0] === 'alice@acme.example')!;
    expect(wrapper.parsed.subject).toBe('Re: Your statement');
    expect(wrapper.raw.toString('latin1')).not.toContain('Thank you, statement received');
    const link = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(wrapper.parsed.html))![1]!;
    const alice = await browser.newContext({ acceptDownloads: true });
    const alicePage = await alice.newPage();
    await alicePage.goto(link);
    const seen = passcodeCount('alice@acme.example');
    await alicePage.getByRole('button', { name: 'Send me a passcode' }).click();
    await alicePage.getByLabel('Passcode').fill(await passcodeFor('alice@acme.example', seen));
    await alicePage.getByRole('button', { name: 'Sign in' }).click();
    await alicePage.getByRole('heading', { name: 'Re: Your statement' }).waitFor();
    await shot(alicePage, 'reply-3-sender-reads');
    const article = await alicePage.locator('article').textContent();
    expect(article).toContain('Thank you, statement received. Signed form attached.');
    expect(article).toContain('> The secret body: account 12345678.');
    expect(article).toContain('ivan@example.org');
    const [download] = await Promise.all([alicePage.waitForEvent('download'), alicePage.getByRole('link', { name: 'signed-form.pdf' }).click()]);
    expect(fs.readFileSync((await download.path())!).equals(Buffer.from('%PDF-1.4 signed form from ivan'))).toBe(true);
    await alice.close();
  });
});

describe('portal isolation', () => {
  let signedIn: BrowserContext;
  beforeAll(async () => {
    signedIn = await browser.newContext();
    await signIn(await signedIn.newPage(), 'dave@example.org', 'isolation');
  });
  afterAll(() => signedIn?.close());

  it('refuses reading without a session (401), with a session for another message (403), and unknown hosts (404)', async () => {
    const host = `acme.localhost:${server.port}`;
    const anonymous = await requestAs(server.port, host, `/m/${messageId}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toContain('Please sign in');
    expect(anonymous.body).toContain('Acme Bank');
    expect(anonymous.body).not.toContain('The secret body');
    expect((await requestAs(server.port, host, `/m/${messageId}/attachments/0`)).status).toBe(401);
    const cookies = await signedIn.cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const other = '00000000-0000-4000-8000-000000000000';
    const elsewhere = await requestAs(server.port, host, `/m/${other}`, { headers: { cookie } });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toContain('This message was not sent to you');
    const mine = await requestAs(server.port, host, `/m/${messageId}`, { headers: { cookie } });
    expect(mine.status).toBe(200);
    // Acme's template does not allow forwarding: no button, and the page refuses.
    expect(mine.body).not.toContain('>Forward<');
    expect((await requestAs(server.port, host, `/m/${messageId}/forward`, { headers: { cookie } })).status).toBe(403);
    // The session cookie is worthless on any other host.
    expect((await requestAs(server.port, `other.localhost:${server.port}`, `/m/${messageId}`, { headers: { cookie } })).status).toBe(404);
  });

  it('refuses a passcode request or a sign-in posted from a foreign origin (CSRF)', async () => {
    const host = `acme.localhost:${server.port}`;
    const token = links['carol@yahoo.com']!.split('/r/')[1]!;
    const before = passcodeCount('carol@yahoo.com');
    const foreign: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: `http://other.localhost:${server.port}` },
      // A browser says where a post comes from; a same-looking Origin does not outweigh it.
      { origin: `http://${host}`, 'sec-fetch-site': 'cross-site' },
      { origin: `http://${host}`, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of foreign) {
      const form = { ...headers, 'content-type': 'application/x-www-form-urlencoded' };
      expect((await requestAs(server.port, host, `/r/${token}/passcode`, { method: 'POST', headers: form, body: '' })).status, JSON.stringify(headers)).toBe(403);
      expect((await requestAs(server.port, host, `/r/${token}/signin`, { method: 'POST', headers: form, body: 'passcode=12345678' })).status, JSON.stringify(headers)).toBe(403);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(passcodeCount('carol@yahoo.com')).toBe(before);
  });

  it('serves attachments only as downloads, with nosniff', async () => {
    const cookie = (await signedIn.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await requestAs(server.port, `acme.localhost:${server.port}`, `/m/${messageId}/attachments/0`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="statement.pdf"/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect((await requestAs(server.port, `acme.localhost:${server.port}`, `/m/${messageId}/attachments/7`, { headers: { cookie } })).status).toBe(404);
  });

  it('shows a damaged link as such (400), and changes nothing on GET', async () => {
    const host = `acme.localhost:${server.port}`;
    const res = await requestAs(server.port, host, '/r/not-a-token');
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe('/r/not-a-token/gone');
    const gone = await requestAs(server.port, host, '/r/not-a-token/gone');
    expect(gone.status).toBe(400);
    expect(gone.body).toContain('This link cannot be used');
    expect(gone.body).toContain('Acme Bank');
    const before = passcodeCount('bob@gmail.com');
    await requestAs(server.port, `acme.localhost:${server.port}`, new URL(links['bob@gmail.com']!).pathname);
    await new Promise((r) => setTimeout(r, 300));
    expect(passcodeCount('bob@gmail.com')).toBe(before);
  });

  it('the 31st reply within an hour gets the 429 page, and the reply form then says so before anything is typed', async () => {
    const host = `acme.localhost:${server.port}`;
    const headers = { cookie: await cookieHeader(signedIn), 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' };
    const reply = () => requestAs(server.port, host, `/m/${messageId}/reply/send`, { method: 'POST', headers, body: 'all=0&body=Thank+you' });
    const before = sink.mails.length;
    for (let i = 0; i < 30; i += 1) {
      const ok = await reply();
      expect(ok.status).toBe(303);
      expect(ok.headers.location).toBe(`/m/${messageId}?replied=1`);
    }
    const refused = await reply();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toContain('Please wait a moment');
    expect(refused.body).toContain(`href="/m/${messageId}/reply"`);
    const form = await requestAs(server.port, host, `/m/${messageId}/reply`, { headers: { cookie: headers.cookie } });
    expect(form.status).toBe(200);
    expect(form.body).toContain('You have sent many replies in the last hour.');
    expect(form.body).not.toContain(`action="/m/${messageId}/reply/send"`);
    // The 30 that were accepted reach the sender (and the outbox is quiet again for the next tests).
    const replies = () => sink.mails.slice(before).filter((m) => m.rcptTo[0] === 'alice@acme.example' && m.parsed.subject === 'Re: Your statement');
    const start = Date.now();
    while (replies().length < 30 && Date.now() - start < 60_000) await new Promise((r) => setTimeout(r, 100));
    expect(replies()).toHaveLength(30);
  }, 120_000);
});

describe('forwarding', () => {
  it('where the template allows it, a reader forwards the message and its attachment, encrypted', async () => {
    expect(runCli(['tenant', 'create', 'clinic', '--name', 'City Clinic', '--domain', 'clinic.example'], cliEnv).status).toBe(0);
    const branding = path.join(dataDir, 'clinic.json');
    fs.writeFileSync(branding, JSON.stringify({ allowForward: true }));
    expect(runCli(['branding', 'set', '--tenant', 'clinic', branding], cliEnv).status).toBe(0);
    const { mail } = await messageHtmlFor({ tenant: 'clinic', to: 'mia@example.org' });
    links['mia@example.org'] = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(mail.parsed.html))![1]!;
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await signIn(page, 'mia@example.org', 'forward');
    await page.getByRole('button', { name: 'Forward' }).click();
    // A bad address is caught by the browser before anything is sent: the note stays as written.
    await page.getByLabel('Message').fill('For your records.');
    await page.getByLabel(/^To/).fill('ned@example.org, not an address');
    const formUrl = page.url();
    await page.getByRole('button', { name: 'Send' }).click();
    expect(page.url()).toBe(formUrl);
    expect(await page.getByLabel(/^To/).evaluate((e) => (e as HTMLInputElement).validity.patternMismatch)).toBe(true);
    await expect(page.getByLabel('Message').inputValue()).resolves.toBe('For your records.');
    // The server checks again, whatever a client sends.
    const refused = await requestAs(server.port, new URL(formUrl).host, `${new URL(formUrl).pathname}/send`, {
      method: 'POST', headers: { cookie: await cookieHeader(context), 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' }, body: 'to=ned%40example.org%2C+eve%40evil&body=x',
    });
    expect(refused.status).toBe(303);
    expect(refused.headers.location).toMatch(/\/forward\?error=INVALID_RECIPIENTS$/);
    await page.goto(`${formUrl}?error=INVALID_RECIPIENTS`);
    // (Next.js adds an empty role=alert route announcer of its own when JavaScript is on.)
    await page.getByRole('alert').filter({ hasText: 'Enter up to 10 email addresses' }).waitFor();
    await page.getByLabel(/^To/).fill('ned@example.org, oli@example.net');
    await page.getByLabel('Message').fill('For your records.');
    await shot(page, 'forward-1-compose');
    await expectAccessible(page);
    const before = sink.mails.length;
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('The message was forwarded, encrypted.');
    await context.close();

    const start = Date.now();
    const wrappers = () => sink.mails.slice(before).filter((m) => m.parsed.subject === 'Fwd: Your statement');
    while (wrappers().length < 2 && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 100));
    expect(wrappers().map((m) => m.rcptTo[0]).sort()).toEqual(['ned@example.org', 'oli@example.net']);
    const toNed = wrappers().find((m) => m.rcptTo[0] === 'ned@example.org')!;
    expect(toNed.raw.toString('latin1')).not.toContain('For your records.');
    links['ned@example.org'] = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(toNed.parsed.html))![1]!;
    const ned = await browser.newContext({ acceptDownloads: true });
    const nedPage = await ned.newPage();
    await nedPage.goto(links['ned@example.org']!);
    const seen = passcodeCount('ned@example.org');
    await nedPage.getByRole('button', { name: 'Send me a passcode' }).click();
    await nedPage.getByLabel('Passcode').fill(await passcodeFor('ned@example.org', seen));
    await nedPage.getByRole('button', { name: 'Sign in' }).click();
    await nedPage.getByRole('heading', { name: 'Fwd: Your statement' }).waitFor();
    const article = await nedPage.locator('article').textContent();
    expect(article).toContain('For your records.');
    expect(article).toContain('The secret body: account 12345678.');
    const [download] = await Promise.all([nedPage.waitForEvent('download'), nedPage.getByRole('link', { name: 'statement.pdf' }).click()]);
    expect(fs.readFileSync((await download.path())!).equals(ATTACHMENT)).toBe(true);
    await shot(nedPage, 'forward-2-recipient-reads');
    await ned.close();
  });
});

describe('sign-in methods', () => {
  it('a tenant with passcodes turned off offers none and refuses the passcode endpoints', async () => {
    expect(runCli(['tenant', 'create', 'quiet', '--name', 'Quiet Trust', '--domain', 'quiet.example'], cliEnv).status).toBe(0);
    const branding = path.join(dataDir, 'quiet.json');
    fs.writeFileSync(branding, JSON.stringify({ signInMethods: { passcode: false } }));
    expect(runCli(['branding', 'set', '--tenant', 'quiet', branding], cliEnv).status).toBe(0);
    const { mail } = await messageHtmlFor({ tenant: 'quiet', to: 'pia@example.org' });
    const link = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(mail.parsed.html))![1]!;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link);
    await expect(page.getByRole('button', { name: 'Send me a passcode' }).count()).resolves.toBe(0);
    expect(await page.locator('main').textContent()).toContain('has not turned on a way to sign in here');
    await expectAccessible(page);
    const token = link.split('/r/')[1]!;
    const headers = { 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' };
    const host = new URL(link).host;
    expect((await requestAs(server.port, host, `/r/${token}/passcode`, { method: 'POST', headers, body: '' })).status).toBe(403);
    expect((await requestAs(server.port, host, `/r/${token}/signin`, { method: 'POST', headers, body: 'passcode=12345678' })).status).toBe(403);
    const verify = await requestAs(server.port, host, `/r/${token}/verify`);
    expect(verify.status).toBe(307);
    expect(verify.headers.location).toBe(`/r/${token}`);
    await new Promise((r) => setTimeout(r, 300));
    expect(passcodeCount('pia@example.org')).toBe(0);
    await context.close();
  });
});

describe('end states, each a page with its status', () => {
  it('a revoked message: 410 at the link and for a reader already signed in', async () => {
    const { mail, messageId: revoked } = await messageHtmlFor({ tenant: 'acme', to: 'kim@example.org' });
    links['kim@example.org'] = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(mail.parsed.html))![1]!;
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await signIn(page, 'kim@example.org', 'revoked');
    expect(runCli(['revoke', revoked], cliEnv).status).toBe(0);
    const reload = await page.reload();
    expect(reload!.status()).toBe(410);
    await expect(page.getByRole('heading', { name: 'This message was revoked' }).isVisible()).resolves.toBe(true);
    expect(await page.content()).not.toContain('The secret body');
    await shot(page, 'state-revoked');
    await expectAccessible(page);
    const atLink = await page.goto(links['kim@example.org']!);
    expect(atLink!.status()).toBe(410);
    expect(await page.locator('main').textContent()).toContain('alice@acme.example revoked this message');
    await context.close();
  });

  it('an expired message: 410', async () => {
    const { mail, messageId: expiring } = await messageHtmlFor({ tenant: 'acme', to: 'lee@example.org' });
    const link = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(mail.parsed.html))![1]!;
    // The clock moves on: the message's expiry is now behind it.
    const db = new Database(path.join(dataDir, 'sealpost.db'));
    db.prepare('UPDATE messages SET expires_at = ? WHERE id = ?').run(Date.now() - 1000, expiring);
    db.close();
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(link);
    expect(response!.status()).toBe(410);
    await expect(page.getByRole('heading', { name: 'This message has expired' }).isVisible()).resolves.toBe(true);
    await shot(page, 'state-expired');
    await context.close();
  });

  it('asking again too soon: 429 with Retry-After and a way back', async () => {
    const host = `acme.localhost:${server.port}`;
    const token = links['dave@example.org']!.split('/r/')[1]!;
    const post = () => requestAs(server.port, host, `/r/${token}/passcode`, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    await post();
    const again = await post();
    expect(again.status).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
    expect(again.body).toContain('Please wait a moment');
    expect(again.body).toContain(`href="/r/${token}"`);
  });
});

describe('content security policy', () => {
  it('each page carries a fresh nonce, and every script on it has that nonce', async () => {
    const host = `acme.localhost:${server.port}`;
    const path = new URL(links['bob@gmail.com']!).pathname;
    const nonces = new Set<string>();
    for (let i = 0; i < 2; i += 1) {
      const res = await requestAs(server.port, host, path);
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
