import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE } from './helpers/browser';
import { runCli } from './helpers/cli';
import { expectAccessible, SETUP_TIMEOUT_MS, startPortal, type TPortal } from './helpers/portal';
import { shot } from './helpers/screenshots';
import { requestAs } from './helpers/server';
import { openInstallationDatabase } from './helpers/installation';

// End states, each a page with its status: no sign-in method, revoked, expired, asked too soon.

let portal: TPortal | undefined;
let { server, browser, dataDir, cliEnv, links, passcodeCount, signIn, messageHtmlFor } = {} as TPortal;
beforeAll(async () => {
  portal = await startPortal();
  ({ server, browser, dataDir, cliEnv, links, passcodeCount, signIn, messageHtmlFor } = portal);
}, SETUP_TIMEOUT_MS);
afterAll(() => portal?.stop());

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
    expect((await requestAs(server.port, host, `/r/${token}/signin`, { method: 'POST', headers, body: 'passcode=12345678' })).status).toBe(
      403,
    );
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
    const db = openInstallationDatabase(cliEnv);
    await db
      .updateTable('messages')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', '=', expiring)
      .execute();
    await db.destroy();
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
    const post = () =>
      requestAs(server.port, host, `/r/${token}/passcode`, {
        method: 'POST',
        headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      });
    await post();
    const again = await post();
    expect(again.status).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
    expect(again.body).toContain('Please wait a moment');
    expect(again.body).toContain(`href="/r/${token}"`);
  });
});
