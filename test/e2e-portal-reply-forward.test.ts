import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE } from './helpers/browser';
import { runCli } from './helpers/cli';
import { expectAccessible, cookieHeader, ATTACHMENT, SETUP_TIMEOUT_MS, startPortal, type TPortal } from './helpers/portal';
import { shot } from './helpers/screenshots';
import { requestAs } from './helpers/server';

// Replying and forwarding from the portal, and the recipients of both reading them.

let portal: TPortal | undefined;
let { sink, server, browser, dataDir, cliEnv, links, passcodeFor, passcodeCount, signIn, messageHtmlFor, readThroughMessageHtml } =
  {} as TPortal;
beforeAll(async () => {
  portal = await startPortal();
  ({ sink, server, browser, dataDir, cliEnv, links, passcodeFor, passcodeCount, signIn, messageHtmlFor, readThroughMessageHtml } = portal);
}, SETUP_TIMEOUT_MS);
afterAll(() => portal?.stop());

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
    const copies = () =>
      sink.mails.slice(before).filter((m) => m.rcptTo[0] === 'ivan@example.org' && m.parsed.subject === 'Re: Your statement');
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
    const [download] = await Promise.all([
      alicePage.waitForEvent('download'),
      alicePage.getByRole('link', { name: 'signed-form.pdf' }).click(),
    ]);
    expect(fs.readFileSync((await download.path())!).equals(Buffer.from('%PDF-1.4 signed form from ivan'))).toBe(true);
    await alice.close();
  });
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
      method: 'POST',
      headers: {
        cookie: await cookieHeader(context),
        'sec-fetch-site': 'same-origin',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'to=ned%40example.org%2C+eve%40evil&body=x',
    });
    expect(refused.status).toBe(303);
    expect(refused.headers.location).toMatch(/\/forward\?error=INVALID_RECIPIENTS$/);
    // The form's GET leaves an empty query (`forward?`), which no script tidies away on this page.
    await page.goto(`${formUrl.split('?')[0]}?error=INVALID_RECIPIENTS`);
    // (On pages with Next.js's runtime, its route announcer is an empty role=alert of its own.)
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
    expect(
      wrappers()
        .map((m) => m.rcptTo[0])
        .sort(),
    ).toEqual(['ned@example.org', 'oli@example.net']);
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
