import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser';
import { runCli } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { startServer, type TServer } from './helpers/server';
import { startSmtpSink, type TReceivedMail, type TSmtpSink } from './helpers/smtp-sink';

// A tenant whose default template and a second template differ in every visible way: a message
// sent with the second one must look like it on every page of its journey, never like the default.
const DEFAULT_LOOK = { displayName: 'Harbour Savings', primaryColour: '#0b5d3b', buttonText: 'See your mail' };
const PRIVATE_LOOK = {
  displayName: 'Crest Private Office',
  primaryColour: '#7a1f5c',
  buttonTextColour: '#fffbe6',
  buttonText: 'Open securely',
  portalText: 'Private clients only.',
};
const PRIVATE_RGB = 'rgb(122, 31, 92)';
const DEFAULT_RGB = 'rgb(11, 93, 59)';
const RECIPIENT = 'uma@example.org';

let sink: TSmtpSink;
let cliEnv: Record<string, string>;
let dataDir: string;
let server: TServer;
let browser: Browser;
let messageId: string;
let wrapper: TReceivedMail;
let link: string;

const writeJson = (name: string, value: object) => {
  const file = path.join(dataDir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
};

async function passcodeMail(address: string, seen: number): Promise<TReceivedMail> {
  const start = Date.now();
  for (;;) {
    const mails = sink.mails.filter((m) => m.rcptTo[0] === address && /passcode/i.test(m.parsed.subject ?? ''));
    if (mails.length > seen) return mails.at(-1)!;
    if (Date.now() - start > 20_000) throw new Error(`no passcode mail for ${address}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The page wears the second template: its name in the header, its colour behind it, and neither
// the default template's name nor its colour anywhere on the page.
async function expectPrivateLook(page: Page, where: string) {
  const header = page.locator('header').first();
  await expect(header.textContent(), where).resolves.toContain(PRIVATE_LOOK.displayName);
  const backgrounds = await header.evaluate((h) => [h, ...h.querySelectorAll('*')].map((e) => getComputedStyle(e).backgroundColor));
  expect(backgrounds, where).toContain(PRIVATE_RGB);
  // What the reader sees (the RSC payload also carries Next's prebuilt 401/403 pages, which are
  // about no message and so in the default template).
  // biome-ignore lint/performance/useDomNodeTextContent: innerText is what is shown, which is the point here.
  expect(await page.locator('body').innerText(), where).not.toContain(DEFAULT_LOOK.displayName);
  const colours = await page
    .locator('body')
    .evaluate((b) => [b, ...b.querySelectorAll('*')].flatMap((e) => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]));
  expect(colours, where).not.toContain(DEFAULT_RGB);
}

beforeAll(async () => {
  sink = await startSmtpSink();
  dataDir = makeTempDir();
  const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
  server = await startServer(env);
  cliEnv = { ...env, PORT: String(server.port) };
  expect(runCli(['tenant', 'create', 'harbour', '--name', 'Harbour Group', '--domain', 'harbour.example'], cliEnv).status).toBe(0);
  // The default template in the flat JSON `branding set` has always taken; the second one in the
  // `{ look, policy }` shape, with forwarding on.
  const setDefault = runCli(['branding', 'set', '--tenant', 'harbour', writeJson('default.json', DEFAULT_LOOK)], cliEnv);
  expect(setDefault.status, setDefault.stderr).toBe(0);
  const setPrivate = runCli(
    [
      'branding',
      'set',
      '--tenant',
      'harbour',
      '--template',
      'private',
      writeJson('private.json', { look: PRIVATE_LOOK, policy: { allowForward: true } }),
    ],
    cliEnv,
  );
  expect(setPrivate.status, setPrivate.stderr).toBe(0);
  const eml = path.join(dataDir, 'statement.eml');
  fs.writeFileSync(eml, sampleEml({ to: [RECIPIENT], from: 'Alice Example <alice@harbour.example>' }));
  const sent = runCli(['send', '--tenant', 'harbour', '--template', 'private', eml], cliEnv);
  expect(sent.status, sent.stderr).toBe(0);
  messageId = sent.json.messageId;
  wrapper = (await sink.waitFor(1))[0]!;
  link = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String(wrapper!.parsed.html))![1]!;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.close();
});

describe('a message sent with a non-default template', () => {
  it('arrives in a wrapper mail and a message.html of that template', () => {
    const html = String(wrapper.parsed.html);
    expect(html).toContain(PRIVATE_LOOK.displayName);
    expect(html).toContain(PRIVATE_LOOK.primaryColour);
    expect(html).toContain(PRIVATE_LOOK.buttonText);
    expect(html).not.toContain(DEFAULT_LOOK.displayName);
    expect(html).not.toContain(DEFAULT_LOOK.buttonText);
    const messageHtml = wrapper.parsed.attachments.find((a) => a.filename === 'message.html')!.content.toString('utf8');
    expect(messageHtml).toContain(PRIVATE_LOOK.displayName);
    expect(messageHtml).toContain(PRIVATE_LOOK.buttonText);
    expect(messageHtml).not.toContain(DEFAULT_LOOK.displayName);
  });

  it('shows that template on every page: landing, passcode mail, verify, message, reply, forward, and its gone pages', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(link);
    await expectPrivateLook(page, 'landing');
    await expect(page.locator('main').textContent()).resolves.toContain(PRIVATE_LOOK.portalText);

    const seen = sink.mails.filter((m) => m.rcptTo[0] === RECIPIENT && /passcode/i.test(m.parsed.subject ?? '')).length;
    await page.getByRole('button', { name: 'Send me a passcode' }).click();
    await page.getByLabel('Passcode').waitFor();
    await expectPrivateLook(page, 'verify');
    const mail = await passcodeMail(RECIPIENT, seen);
    expect(mail.parsed.from?.value[0]?.name).toBe(PRIVATE_LOOK.displayName);
    expect(String(mail.parsed.html)).toContain(PRIVATE_LOOK.primaryColour);
    expect(String(mail.parsed.html)).not.toContain(DEFAULT_LOOK.displayName);
    expect(mail.parsed.text).toContain(PRIVATE_LOOK.displayName);

    await page.getByLabel('Passcode').fill(/(\d{8})/.exec(mail.parsed.subject ?? '')![1]!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    await expectPrivateLook(page, 'message');
    const messageUrl = page.url();

    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await page.getByRole('heading', { name: 'Re: Your statement' }).waitFor();
    await expectPrivateLook(page, 'reply');

    await page.goto(messageUrl);
    await page.getByRole('button', { name: 'Forward' }).click();
    await page.getByRole('heading', { name: 'Fwd: Your statement' }).waitFor();
    await expectPrivateLook(page, 'forward');

    // Revoked: the signed-in reader's gone page and the link's gone page are the template's too.
    expect(runCli(['revoke', messageId], cliEnv).status).toBe(0);
    const gone = await page.goto(messageUrl);
    expect(gone!.status()).toBe(410);
    await expect(page.getByRole('heading', { name: 'This message was revoked' }).isVisible()).resolves.toBe(true);
    await expectPrivateLook(page, 'message gone');
    const linkGone = await page.goto(link);
    expect(linkGone!.status()).toBe(410);
    await expectPrivateLook(page, 'link gone');
    await context.close();
  });

  it('leaves a tenant page about no message in the default template', async () => {
    const page = await browser.newPage();
    await page.goto(new URL(link).origin);
    await expect(page.locator('header').first().textContent()).resolves.toContain(DEFAULT_LOOK.displayName);
    await page.close();
  });
});
