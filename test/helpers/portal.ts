import fs from 'node:fs';
export { SETUP_TIMEOUT_MS } from './server';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { accessibilityViolations, launchBrowser } from './browser';
import { runCli } from './cli';
import { makeTempDir, sampleEml } from './context';
import { shot } from './screenshots';
import { startServer, type TServer } from './server';
import { linkFor, passcodeCount, passcodeFor } from './sink-mail';
import { startSmtpSink, type TSmtpSink } from './smtp-sink';

// The portal end to end: the production server, a real SMTP sink, tenant acme, one message to
// three recipients (their links in `links`), and Debian's Chromium. One per test file, so a
// journey never depends on what another file's journey left behind.

export const ATTACHMENT = Buffer.from('%PDF-1.4 secret attachment bytes');
export const RECIPIENTS = ['bob@gmail.com', 'carol@yahoo.com', 'dave@example.org'];

export type TPortal = {
  sink: TSmtpSink;
  server: TServer;
  browser: Browser;
  dataDir: string;
  // The environment the CLI needs to share the server's database, keys and port.
  cliEnv: Record<string, string>;
  messageId: string;
  links: Record<string, string>;
  passcodeFor(address: string, seen: number): Promise<string>;
  passcodeCount(address: string): number;
  signIn(page: Page, address: string, label: string, check?: (page: Page) => Promise<void>): Promise<void>;
  messageHtmlFor(options: { tenant: string; to: string }): Promise<{ saved: string; mail: TSmtpSink['mails'][number]; messageId: string }>;
  readThroughMessageHtml(page: Page, saved: string, address: string, label: string): Promise<void>;
  stop(): Promise<void>;
};

export async function expectAccessible(page: Page) {
  expect(await accessibilityViolations(page), page.url()).toEqual([]);
}

export const cookieHeader = async (context: BrowserContext) => (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');

export async function startPortal(): Promise<TPortal> {
  const sink = await startSmtpSink();
  const dataDir = makeTempDir();
  const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
  const server = await startServer(env);
  // The CLI builds the links: it must know the port the portal listens on, as an operator's would.
  const cliEnv = { ...env, PORT: String(server.port) };
  runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], cliEnv);
  const file = path.join(dataDir, 'statement.eml');
  fs.writeFileSync(file, sampleEml({ to: RECIPIENTS }));
  const messageId = runCli(['send', '--tenant', 'acme', file], cliEnv).json.messageId as string;
  await sink.waitFor(3);
  const links: Record<string, string> = {};
  for (const a of RECIPIENTS) links[a] = linkFor({ sink, address: a });
  const browser = await launchBrowser();

  const count = (address: string) => passcodeCount(sink, address);
  const code = (address: string, seen: number) => passcodeFor(sink, address, seen);

  // Every page on the way is checked by `check` too, when given (accessibility, say).
  async function signIn(page: Page, address: string, label: string, check: (page: Page) => Promise<void> = async () => {}) {
    await page.goto(links[address]!);
    await shot(page, `${label}-1-landing`);
    await check(page);
    const before = count(address);
    await page.getByRole('button', { name: 'Send me a passcode' }).click();
    await page.waitForLoadState();
    await shot(page, `${label}-1b-after-request`);
    await page.getByLabel('Passcode').waitFor();
    await shot(page, `${label}-2-passcode`);
    await check(page);
    await page.getByLabel('Passcode').fill(await code(address, before));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    await shot(page, `${label}-3-message`);
    await check(page);
  }

  // Sends a message through the CLI and saves one recipient's message.html to disk, as a mail
  // client would when the recipient opens the attachment.
  async function messageHtmlFor({ tenant, to }: { tenant: string; to: string }) {
    const eml = path.join(dataDir, `${tenant}-${to}.eml`);
    fs.writeFileSync(eml, sampleEml({ to: [to], from: `Alice Example <alice@${tenant}.example>` }));
    const before = sink.mails.length;
    const sent = runCli(['send', '--tenant', tenant, eml], cliEnv);
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
    const before = count(address);
    await page.getByRole('button', { name: 'Send me a passcode' }).click();
    await page.getByLabel('Passcode').fill(await code(address, before));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your statement' }).waitFor();
    await shot(page, `${label}-3-message`);
  }

  return {
    sink,
    server,
    browser,
    dataDir,
    cliEnv,
    messageId,
    links,
    passcodeFor: code,
    passcodeCount: count,
    signIn,
    messageHtmlFor,
    readThroughMessageHtml,
    async stop() {
      await browser.close();
      await server.stop();
      await sink.close();
    },
  };
}
