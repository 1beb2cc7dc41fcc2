import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { cookieHeader, expectAccessible, SETUP_TIMEOUT_MS, startPortal, type TPortal } from './helpers/portal';
import { shot } from './helpers/screenshots';
import { requestAs } from './helpers/server';
import { linkFor } from './helpers/sink-mail';
import { sampleEml } from './helpers/context';
import { openInstallationDatabase } from './helpers/installation';

// Do Not Forward in Chromium (issue 16): what a reader of a restricted message can and cannot do,
// with the server refusing what the page does not offer; and an Encrypt-Only message unchanged.

let portal: TPortal | undefined;
let { sink, server, browser, dataDir, cliEnv, links, signIn } = {} as TPortal;

// An HTML message (its body is served to the sandboxed frame, where the watermark must be too).
const htmlEml = ({ from, to }: { from: string; to: string[] }) =>
  Buffer.from(
    [
      `From: Alice Example <${from}>`,
      `To: ${to.join(', ')}`,
      'Subject: Your statement',
      'Message-ID: <dnf-1@example>',
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>The secret body: <b>account 12345678</b>.</p>',
      '--b1',
      'Content-Type: application/pdf; name="statement.pdf"',
      'Content-Disposition: attachment; filename="statement.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 restricted attachment').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n'),
  );

async function tenantWith(slug: string, branding: Record<string, unknown>) {
  expect(runCli(['tenant', 'create', slug, '--name', `${slug} Bank`, '--domain', `${slug}.example`], cliEnv).status).toBe(0);
  const file = path.join(dataDir, `${slug}.json`);
  fs.writeFileSync(file, JSON.stringify(branding));
  expect(runCli(['branding', 'set', '--tenant', slug, file], cliEnv).status).toBe(0);
}

// Sends the HTML message from `slug` to `to` and returns the first reader's landing link.
// `names` gives a recipient a display name in the To header (the watermark must ignore it).
async function sendFrom(slug: string, to: string[], names: Record<string, string> = {}) {
  const eml = path.join(dataDir, `${slug}.eml`);
  const header = to.map((a) => (names[a] ? `"${names[a]}" <${a}>` : a));
  fs.writeFileSync(eml, htmlEml({ from: `alice@${slug}.example`, to: header }));
  const before = sink.mails.length;
  const sent = runCli(['send', '--tenant', slug, eml], cliEnv);
  expect(sent.status, sent.stderr).toBe(0);
  await sink.waitFor(before + to.length);
  for (const a of to) links[a] = linkFor({ sink, address: a, from: before });
  return { messageId: sent.json.messageId as string, mails: sink.mails.slice(before) };
}

const post = async (context: BrowserContext, page: Page, path: string, body: string) =>
  requestAs(server.port, new URL(page.url()).host, path, {
    method: 'POST',
    headers: { cookie: await cookieHeader(context), 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });

const refusals = async (messageId: string) => {
  const db = openInstallationDatabase(cliEnv);
  const rows = await db
    .selectFrom('audit_events')
    .select(['actor', 'data'])
    .where('message_id', '=', messageId)
    .where('type', '=', 'restricted_action_refused')
    .orderBy('id')
    .execute();
  await db.destroy();
  return rows.map((r) => ({ actor: r.actor, ...JSON.parse(String(r.data)) }));
};

beforeAll(async () => {
  portal = await startPortal();
  ({ sink, server, browser, dataDir, cliEnv, links, signIn } = portal);
  await tenantWith('vault', { restrictions: 'do-not-forward', allowForward: true });
  await tenantWith('openbank', { allowForward: true });
}, SETUP_TIMEOUT_MS);
afterAll(() => portal?.stop());

describe('a Do Not Forward message', () => {
  it('offers no Forward, refuses one posted by hand, keeps Reply all to the original people, watermarks and does not print', async () => {
    // Jon's display name is an entity and CSS (angle brackets, colons and semicolons the parser refuses outright):
    // shown as text, and never part of a watermark, which names the signed-in address only.
    const HOSTILE = "Jon &amp & 'Co' }body{opacity 0}/* {{x}}";
    const { messageId, mails } = await sendFrom('vault', ['ivy@example.org', 'jon@example.org'], { 'jon@example.org': HOSTILE });
    // The wrapper says so, in both its parts.
    const wrapper = mails.find((m) => m.rcptTo[0] === 'ivy@example.org')!;
    expect(wrapper.parsed.text).toContain('Do Not Forward');
    expect(String(wrapper.parsed.html)).toContain('Do Not Forward');

    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const page = await context.newPage();
    await signIn(page, 'ivy@example.org', 'dnf');
    await expect(page.getByRole('button', { name: 'Forward' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Reply', exact: true }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Reply all' }).count()).resolves.toBe(1);
    const notice = page.getByRole('region', { name: 'Do Not Forward' });
    await expect(notice.textContent()).resolves.toContain('it cannot be forwarded');
    await expect(notice.textContent()).resolves.toContain('photograph the screen');

    // The watermark, drawn into the body's own document, names this reader and the time.
    const frame = page.frameLocator('iframe[title="Message body"]');
    const mark = frame.locator('[data-watermark]');
    await expect(mark.getAttribute('data-watermark')).resolves.toMatch(/^ivy@example\.org · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await expect(mark.locator('span').first().isVisible()).resolves.toBe(true);
    await expect(frame.locator('body').textContent()).resolves.toContain('ivy@example.org');
    await expect(frame.getByText('The secret body').isVisible()).resolves.toBe(true);
    await shot(page, 'dnf-4-message-390');
    await expectAccessible(page);

    // The attachment still opens.
    const download = await requestAs(server.port, new URL(page.url()).host, `/m/${messageId}/attachments/0`, {
      headers: { cookie: await cookieHeader(context) },
    });
    expect(download.status).toBe(200);
    expect(download.body).toBe('%PDF-1.4 restricted attachment');

    // Printing shows the notice, not the message: on the page, and in the body's document.
    await page.emulateMedia({ media: 'print' });
    await expect(page.getByText('This message is Do Not Forward: it is not printed.').isVisible()).resolves.toBe(true);
    await expect(page.locator('article').isVisible()).resolves.toBe(false);
    await expect(page.getByRole('button', { name: 'Reply all' }).isVisible()).resolves.toBe(false);
    await shot(page, 'dnf-5-print');
    const body = await context.newPage();
    await body.goto(`${new URL(page.url()).origin}/m/${messageId}/body`);
    await body.emulateMedia({ media: 'print' });
    await expect(body.getByText('The secret body').isVisible()).resolves.toBe(false);
    await expect(body.locator('[data-watermark] span').first().isVisible()).resolves.toBe(false);
    await expect(body.getByText('This message is Do Not Forward: it is not printed.').isVisible()).resolves.toBe(true);
    await body.emulateMedia({ media: 'screen' });
    await expect(body.getByText('The secret body').isVisible()).resolves.toBe(true);
    await page.emulateMedia({ media: 'screen' });

    // The server refuses what the page does not offer, and records each refusal.
    const forwardPage = await requestAs(server.port, new URL(page.url()).host, `/m/${messageId}/forward`, {
      headers: { cookie: await cookieHeader(context) },
    });
    expect(forwardPage.status).toBe(403);
    const forward = await post(context, page, `/m/${messageId}/forward/send`, 'to=eve%40evil.example&body=look');
    expect(forward.status).toBe(403);
    const before = sink.mails.length;
    const added = await post(context, page, `/m/${messageId}/reply/send`, 'all=1&body=Adding+Eve&cc=eve%40evil.example');
    expect(added.status).toBe(403);
    expect(await refusals(messageId)).toEqual([
      { actor: 'ivy@example.org', action: 'forward', restrictions: 'do-not-forward' },
      { actor: 'ivy@example.org', action: 'forward', restrictions: 'do-not-forward' },
      { actor: 'ivy@example.org', action: 'reply_recipients', restrictions: 'do-not-forward' },
    ]);

    // Reply all through the page reaches the sender and the other recipient, and nobody else.
    await page.getByRole('button', { name: 'Reply all' }).click();
    await page.getByLabel('Message').fill('Received, thank you.');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('status').waitFor();
    const start = Date.now();
    const replies = () => sink.mails.slice(before).filter((m) => m.parsed.subject === 'Re: Your statement');
    while (replies().length < 2 && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    expect(
      replies()
        .map((m) => m.rcptTo[0])
        .sort(),
    ).toEqual(['alice@vault.example', 'jon@example.org']);
    expect(sink.mails.slice(before).some((m) => m.rcptTo.includes('eve@evil.example'))).toBe(false);
    // The reply quotes the message, so it is Do Not Forward too, and its wrapper says so.
    expect(replies()[0]!.parsed.text).toContain('Do Not Forward');
    await context.close();

    // The other recipient reads the same stored view of the message, under a watermark of his own.
    const jon = await browser.newContext();
    const jonPage = await jon.newPage();
    const dialogs: string[] = [];
    jonPage.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await signIn(jonPage, 'jon@example.org', 'dnf-jon');
    const jonMark = jonPage.frameLocator('iframe[title="Message body"]').locator('[data-watermark]');
    await expect(jonMark.getAttribute('data-watermark')).resolves.toMatch(/^jon@example\.org · /);
    await expect(jonPage.frameLocator('iframe[title="Message body"]').locator('body').textContent()).resolves.not.toContain('ivy@');
    await expect(jonMark.getAttribute('data-watermark')).resolves.not.toMatch(/script|body|Jon/);
    await expect(jonMark.locator('span').first().isVisible()).resolves.toBe(true);
    await expect(jonPage.locator('article dl').textContent()).resolves.toContain(HOSTILE);
    await expect(jonPage.locator('article script').count()).resolves.toBe(0);
    expect(dialogs).toEqual([]);
    await jon.close();
  }, 180_000);

  it('a text body is watermarked on the page itself, with JavaScript off, and prints only the notice', async () => {
    const eml = path.join(dataDir, 'vault-text.eml');
    fs.writeFileSync(eml, sampleEml({ to: ['ivy@example.org'], from: 'Alice Example <alice@vault.example>' }));
    const before = sink.mails.length;
    expect(runCli(['send', '--tenant', 'vault', eml], cliEnv).status).toBe(0);
    await sink.waitFor(before + 1);
    links['ivy@example.org'] = linkFor({ sink, address: 'ivy@example.org', from: before });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, 'ivy@example.org', 'dnf-text');
    const mark = page.locator('article [data-watermark]');
    await expect(mark.getAttribute('data-watermark')).resolves.toMatch(/^ivy@example\.org · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await expect(mark.locator('span').first().isVisible()).resolves.toBe(true);
    await expect(page.getByText('The secret body: account 12345678.').isVisible()).resolves.toBe(true);
    await shot(page, 'dnf-6-text-no-js');
    await page.emulateMedia({ media: 'print' });
    await expect(page.getByText('The secret body: account 12345678.').isVisible()).resolves.toBe(false);
    await expect(page.getByText('This message is Do Not Forward: it is not printed.').isVisible()).resolves.toBe(true);
    await context.close();
  }, 120_000);
});

describe('an Encrypt-Only message', () => {
  it('still offers everything: Forward, Reply, Reply all, printing, and no watermark', async () => {
    const { messageId, mails } = await sendFrom('openbank', ['kai@example.org']);
    expect(mails[0]!.parsed.text).not.toContain('Do Not Forward');
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await signIn(page, 'kai@example.org', 'encrypt-only');
    for (const name of ['Reply', 'Reply all', 'Forward'])
      await expect(page.getByRole('button', { name, exact: true }).count()).resolves.toBe(1);
    await expect(page.getByText('It has no other restrictions').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('region', { name: 'Do Not Forward' }).count()).resolves.toBe(0);
    await expect(page.frameLocator('iframe[title="Message body"]').getByText('The secret body').isVisible()).resolves.toBe(true);
    await expect(page.frameLocator('iframe[title="Message body"]').locator('[data-watermark]').count()).resolves.toBe(0);
    await page.emulateMedia({ media: 'print' });
    await expect(page.locator('article').isVisible()).resolves.toBe(true);
    await expect(page.getByText('it is not printed').count()).resolves.toBe(0);
    await page.emulateMedia({ media: 'screen' });
    await page.getByRole('button', { name: 'Forward' }).click();
    await page.getByLabel(/^To/).fill('lea@example.org');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('The message was forwarded, encrypted.');
    await context.close();
    expect(await refusals(messageId)).toEqual([]);
  }, 120_000);
});
