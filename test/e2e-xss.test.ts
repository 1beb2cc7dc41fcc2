import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser';
import { runCli } from './helpers/cli';
import { makeTempDir } from './helpers/context';
import { startServer, type TServer } from './helpers/server';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

const dir = new URL('./corpora/xss/', import.meta.url);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.txt') && !f.startsWith('LICENSE'))
  .sort();

let sink: TSmtpSink;
let server: TServer;
let browser: Browser;
let env: Record<string, string>;
let dataDir: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  dataDir = makeTempDir();
  const base = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
  server = await startServer(base);
  env = { ...base, PORT: String(server.port) };
  runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], env);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.close();
});

const htmlMessage = (to: string, html: string) =>
  [
    'From: Mallory <mallory@acme.example>',
    `To: ${to}`,
    'Subject: Payloads',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(html, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n'),
    '',
  ].join('\r\n');

async function waitForMail(to: string, match: RegExp) {
  const start = Date.now();
  for (;;) {
    const mail = [...sink.mails].reverse().find((m) => m.rcptTo[0] === to && match.test(m.parsed.subject ?? ''));
    if (mail) return mail;
    if (Date.now() - start > 20_000) throw new Error(`no mail for ${to}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(`XSS corpora in the portal, in Chromium (${files.length} files)`, () => {
  it.each(files.map((f, i) => [f, i] as const))('%s: no script runs, no dialog opens, no request leaves', async (file, i) => {
    const payloads = fs
      .readFileSync(new URL(file, dir), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    const to = `reader${i}@example.org`;
    const eml = path.join(dataDir, `xss-${i}.eml`);
    fs.writeFileSync(eml, htmlMessage(to, payloads.map((p) => `<div>${p}</div>`).join('\n')));
    expect(runCli(['send', '--tenant', 'acme', eml], env).status).toBe(0);
    const link = /href="(http:\/\/[^"]+\/r\/[^"]+)"/.exec(String((await waitForMail(to, /Payloads/)).parsed.html))![1]!;

    const context = await browser.newContext();
    const page = await context.newPage();
    const events: string[] = [];
    const portal = new URL(link).host;
    page.on('dialog', (d) => {
      events.push(`dialog ${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    // Every request must stay on the portal's own origin (or be inline data).
    context.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith('data:') && !url.startsWith('about:') && new URL(url).host !== portal)
        events.push(`request ${r.resourceType()} ${url}`);
    });
    await page.goto(link);
    await page.getByRole('button', { name: 'Send me a passcode' }).click();
    const code = /(\d{8})/.exec((await waitForMail(to, /passcode/i)).parsed.subject ?? '')![1]!;
    await page.getByLabel('Passcode').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Payloads' }).waitFor();
    await page.waitForTimeout(500);
    // Remote images blocked: not a single request leaves the portal.
    expect(events).toEqual([]);
    // With remote images allowed (the reader's choice) only images may load; nothing may run.
    await page.goto(`${page.url()}?images=1`);
    await page.waitForTimeout(500);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(frame, 'the body is in its own frame').toBeTruthy();
    const scriptsInFrame = await page.locator('iframe[title="Message body"]').getAttribute('sandbox');
    expect(scriptsInFrame).not.toContain('allow-scripts');
    expect(events.filter((e) => e.startsWith('dialog'))).toEqual([]);
    expect(events.filter((e) => e.startsWith('request') && !e.startsWith('request image '))).toEqual([]);
    console.log(`${file}: ${payloads.length} payloads rendered in the portal, no dialog, no request off the portal`);
    await context.close();
  });
});
