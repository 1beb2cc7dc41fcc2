import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser';
import { runCli, runCliAsync } from './helpers/cli';
import { makeTempDir } from './helpers/context';
import { signInAtProvider } from './helpers/federated';
import { startOidcProvider, type TOidcProvider } from './helpers/oidc-provider';
import { contextWithPasskeys, registerPasskey } from './helpers/passkeys';
import { expectAccessible } from './helpers/portal';
import { shot } from './helpers/screenshots';
import { freePort, requestAs, SETUP_TIMEOUT_MS, startServer, type TServer } from './helpers/server';
import { openInstallationDatabase, setAdminVerifiedAt } from './helpers/installation';

// The admin console and the tenant's own identity provider, in Debian's Chromium against a real
// oidc-provider on loopback: an owner opens the provider to admins (Identity providers page), an
// admin signs in through it (JavaScript off), a verified address that is no admin's and an
// unverified one are refused, a re-verification goes through the provider again; and the custom
// domain page.
let server: TServer;
let idp: TOidcProvider;
let browser: Browser;
let dataDir: string;
let port: number;
let cliEnv: Record<string, string>;
const ACME = () => `acme.localhost:${port}`;
const PROVIDER = 'oidc-acme-corp';

beforeAll(async () => {
  dataDir = makeTempDir();
  port = await freePort();
  const callback = (provider: string) => `http://auth.localhost:${port}/api/auth/callback/${provider}`;
  idp = await startOidcProvider({
    path: '/corp',
    client: {
      clientId: 'sealpost-acme',
      clientSecret: 'acme-client-secret',
      redirectUris: [callback(PROVIDER), callback('oidc-acme-staff')],
    },
    accounts: {
      olivia: { email: 'olivia@acme.example', email_verified: true },
      eve: { email: 'eve@acme.example', email_verified: true },
      // Olivia's address, but the provider does not say it checked it.
      mallory: { email: 'olivia@acme.example', email_verified: false },
      'string-true': { email: 'olivia@acme.example', email_verified: 'true' },
    },
  });
  cliEnv = { PORT: String(port), SEALPOST_DATA_DIR: dataDir, SEALPOST_DEMO_TENANT: 'off' };
  server = await startServer(cliEnv);
  expect(runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], cliEnv).status).toBe(0);
  const secretFile = path.join(dataDir, 'idp-secret');
  fs.writeFileSync(secretFile, 'acme-client-secret\n');
  const added = await runCliAsync(
    [
      'idp',
      'add',
      '--tenant',
      'acme',
      '--name',
      'corp',
      '--display',
      'Acme staff',
      '--issuer',
      idp.issuer,
      '--client-id',
      'sealpost-acme',
      '--client-secret-file',
      secretFile,
    ],
    cliEnv,
  );
  expect(added.status, added.stderr).toBe(0);
  // From the CLI without --for-admins: readers only, until an owner opens it to admins.
  expect(added.json.forAdmins).toBe(false);
  browser = await launchBrowser();
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await idp?.close();
});

async function auditOf(type: string): Promise<Array<{ actor: string | null; data: Record<string, unknown> }>> {
  const db = openInstallationDatabase(cliEnv);
  try {
    const rows = await db.selectFrom('audit_events').select(['actor', 'data']).where('type', '=', type).orderBy('id').execute();
    return rows.map((r) => ({ actor: r.actor, data: JSON.parse(String(r.data)) }));
  } finally {
    await db.destroy();
  }
}

const adminCookies = async (context: BrowserContext) => (await context.cookies()).filter((c) => c.name === 'sealpost-admin');
const fits390 = async (page: Page) =>
  expect(await page.evaluate(() => document.documentElement.scrollWidth), page.url()).toBeLessThanOrEqual(390);

describe('the identity providers page', () => {
  it('an owner opens the provider to admins; a provider is added only after the discovery check, and removed; all audited', async () => {
    const invited = runCli(['admin', 'invite', '--tenant', 'acme', '--role', 'owner', 'olivia@acme.example'], cliEnv);
    expect(invited.status, invited.stderr).toBe(0);
    const { context, page } = await contextWithPasskeys(browser);
    await registerPasskey(page, invited.json.link);
    // The sign-in page offers no provider yet: none is open to admins.
    await page.getByRole('link', { name: 'Identity providers' }).click();
    await page.getByRole('heading', { name: 'Identity providers' }).waitFor();
    expect(await page.locator('[data-provider="corp"] [data-for-admins]').textContent()).toBe('no');
    await expectAccessible(page);
    await fits390(page);
    await page.getByRole('button', { name: 'Let admins sign in with Acme staff' }).click();
    await page.waitForURL(/done=changed/);
    expect(await page.locator('[data-provider="corp"] [data-for-admins]').textContent()).toBe('yes');

    // A wrong issuer: the discovery check fails and nothing is saved.
    const fill = async (issuer: string) => {
      await page.getByLabel(/^Name/).fill('staff');
      await page.getByLabel(/^Display name/).fill('Staff SSO');
      await page.getByLabel('Issuer URL').fill(issuer);
      await page.getByLabel('Client id').fill('sealpost-acme');
      await page.getByLabel('Client secret').fill('acme-client-secret');
      await page.getByRole('button', { name: 'Check and add provider' }).click();
    };
    await fill('http://127.0.0.1:9/nothing-here');
    await page.waitForURL(/error=DISCOVERY/);
    expect(await page.locator('main [role=alert]').textContent()).toContain('discovery check failed');
    expect(await page.locator('[data-provider="staff"]').count()).toBe(0);
    await expectAccessible(page);
    await shot(page, 'admin-oidc-1-discovery-failed');
    await fill(idp.issuer);
    await page.waitForURL(/done=added/);
    expect(await page.locator('[data-provider="staff"]').textContent()).toContain(
      `http://auth.localhost:${port}/api/auth/callback/oidc-acme-staff`,
    );
    await fits390(page);
    await shot(page, 'admin-oidc-2-providers');
    await page.getByRole('button', { name: 'Remove identity provider Staff SSO' }).click();
    await page.waitForURL(/done=removed/);
    expect(await page.locator('[data-provider="staff"]').count()).toBe(0);

    expect((await auditOf('identity_provider_changed')).map((e) => [e.actor, JSON.parse(String(e.data.after)).forAdmins])).toEqual([
      ['admin:olivia@acme.example', true],
    ]);
    expect((await auditOf('identity_provider_added')).map((e) => e.actor)).toEqual(['admin:olivia@acme.example']);
    expect((await auditOf('identity_provider_removed')).map((e) => JSON.parse(String(e.data.before)).name)).toEqual(['staff']);
    await context.close();
  });
});

describe('admin sign-in through the provider', () => {
  it('the sign-in page offers the provider beside the passkey; an admin signs in through it with JavaScript off', async () => {
    const withJs = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const signInPage = await withJs.newPage();
    await signInPage.goto(`http://${ACME()}/admin`);
    await signInPage.getByRole('button', { name: 'Sign in with Acme staff' }).waitFor();
    await signInPage.getByRole('button', { name: 'Sign in with passkey' }).waitFor();
    await expectAccessible(signInPage);
    await fits390(signInPage);
    await shot(signInPage, 'admin-oidc-3-signin');
    await withJs.close();

    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`http://${ACME()}/admin?next=%2Fadmin%2Faudit`);
    await page.getByRole('button', { name: 'Sign in with Acme staff' }).click();
    await signInAtProvider(page, 'olivia');
    await page.waitForURL(`http://${ACME()}/admin/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const cookie = await adminCookies(context);
    expect(cookie).toHaveLength(1);
    expect(cookie[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', domain: 'acme.localhost' });
    // The binding cookies of the sign-in are gone from both hosts.
    expect((await context.cookies()).map((c) => c.name).filter((n) => /sealpost-(federated|auth-signin)/.test(n))).toEqual([]);
    const ok = (await auditOf('admin_signin_ok')).filter((e) => e.data.method === 'oidc');
    expect(ok).toEqual([{ actor: 'admin:olivia@acme.example', data: { method: 'oidc', provider: PROVIDER } }]);
    await context.close();
  });

  it('a verified address that is no admin’s, an unverified one and a string "true" are refused, audited, and sign nobody in', async () => {
    for (const [login, reason, text] of [
      ['eve', 'not_admin', 'not an admin of this console'],
      ['mallory', 'unverified', 'did not confirm that your email address is verified'],
      ['string-true', 'unverified', 'did not confirm that your email address is verified'],
    ] as const) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const page = await context.newPage();
      await page.goto(`http://${ACME()}/admin`);
      await page.getByRole('button', { name: 'Sign in with Acme staff' }).click();
      await signInAtProvider(page, login);
      await page.waitForURL(`http://${ACME()}/admin?refused=${reason}`);
      expect(await page.locator('main [role=alert]').filter({ hasText: text }).count(), login).toBe(1);
      expect(await adminCookies(context), login).toEqual([]);
      if (login === 'eve') {
        await expectAccessible(page);
        await fits390(page);
        await shot(page, 'admin-oidc-4-refused');
      }
      // Nothing of the console opens.
      expect((await page.goto(`http://${ACME()}/admin/messages`))!.url()).toMatch(/\/admin\?next=/);
      await context.close();
    }
    const failed = (await auditOf('admin_signin_failed')).filter((e) => e.data.method === 'oidc');
    expect(failed.map((e) => [e.actor, e.data.reason, e.data.address])).toEqual([
      [null, 'not_admin', 'eve@acme.example'],
      [null, 'unverified', 'olivia@acme.example'],
      [null, 'unverified', 'olivia@acme.example'],
    ]);
  });

  it('a re-verification is satisfied by signing in at the provider again (asked afresh), and replaces the session', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`http://${ACME()}/admin?next=%2Fadmin%2Fkeys`);
    await page.getByRole('button', { name: 'Sign in with Acme staff' }).click();
    await signInAtProvider(page, 'olivia');
    await page.waitForURL(`http://${ACME()}/admin/keys`);
    const before = (await adminCookies(context))[0]!.value;
    const versions = await page.locator('[data-key-version]').count();
    await setAdminVerifiedAt(cliEnv, Date.now() - 6 * 60_000);
    await page.getByRole('button', { name: 'Rotate the tenant key' }).click();
    await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Confirm with Acme staff' }).click();
    // prompt=login: the provider asks again although it still has a session of its own.
    await signInAtProvider(page, 'olivia');
    await page.waitForURL(`http://${ACME()}/admin/keys`);
    await page.getByRole('button', { name: 'Rotate the tenant key' }).click();
    await page.waitForURL(/done=rotated/);
    expect(await page.locator('[data-key-version]').count()).toBe(versions + 1);
    // The session before the re-verification is over on the server.
    const old = await requestAs(port, ACME(), '/admin/keys', { headers: { cookie: `sealpost-admin=${before}` } });
    expect(old.status).toBe(307);
    await context.close();
  });
});

describe('the custom domain page', () => {
  it('sets a domain (the CNAME to create and whether it resolves), refuses IPs and the service’s hosts, clears it (JavaScript off too); audited', async () => {
    const { context, page } = await contextWithPasskeys(browser);
    const invited = runCli(['admin', 'invite', '--tenant', 'acme', '--role', 'admin', 'dora@acme.example'], cliEnv);
    await registerPasskey(page, invited.json.link);
    await page.getByRole('link', { name: 'Custom domain' }).click();
    await page.getByRole('heading', { name: 'Custom domain' }).waitFor();
    expect(await page.locator('main').textContent()).toContain('This tenant has no custom domain.');
    await expectAccessible(page);
    for (const bad of ['192.0.2.10', `auth.localhost`, 'beta.localhost', 'not a host']) {
      await page.getByLabel('Domain').fill(bad);
      await page.getByRole('button', { name: 'Save domain' }).click();
      await page.waitForURL(/error=BAD_REQUEST/);
      expect(await page.locator('main [role=alert]').filter({ hasText: 'not a domain this portal can use' }).count(), bad).toBe(1);
    }
    await page.getByLabel('Domain').fill('Secure.Acme-Bank.Example');
    await page.getByRole('button', { name: 'Save domain' }).click();
    await page.waitForURL(/done=set/);
    const record = await page.locator('[data-dns-record]').textContent();
    expect(record).toContain('secure.acme-bank.example');
    expect(record).toContain('CNAME');
    expect(record).toContain('acme.localhost.');
    // Nothing here resolves a made-up name: missing, or no answer in time; never a hung page.
    expect(['missing', 'unanswered']).toContain(await page.locator('[data-dns-state]').getAttribute('data-dns-state'));
    await expectAccessible(page);
    await fits390(page);
    await shot(page, 'admin-oidc-5-domain');
    // Mail links name the custom domain now, but an admin who signs in through the provider on the
    // tenant's own host comes back to that host, where the sign-in's binding cookie is.
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await otherPage.goto(`http://${ACME()}/admin`);
    await otherPage.getByRole('button', { name: 'Sign in with Acme staff' }).click();
    await signInAtProvider(otherPage, 'olivia');
    await otherPage.waitForURL(`http://${ACME()}/admin/messages`);
    await other.close();
    // The same session without JavaScript: clearing is a plain form, and so is adding a provider.
    const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    await noJs.addCookies(await context.cookies());
    const plain = await noJs.newPage();
    await plain.goto(`http://${ACME()}/admin/domain`);
    await plain.getByRole('button', { name: 'Clear the custom domain' }).click();
    await plain.waitForURL(/done=cleared/);
    expect(await plain.locator('main').textContent()).toContain('This tenant has no custom domain.');
    await plain.goto(`http://${ACME()}/admin/identity-providers`);
    await plain.getByLabel(/^Name/).fill('nojs');
    await plain.getByLabel(/^Display name/).fill('No-JS SSO');
    await plain.getByLabel('Issuer URL').fill(idp.issuer);
    await plain.getByLabel('Client id').fill('sealpost-acme');
    await plain.getByLabel('Client secret').fill('acme-client-secret');
    await plain.getByRole('button', { name: 'Check and add provider' }).click();
    await plain.waitForURL(/done=added/);
    await plain.getByRole('button', { name: 'Remove identity provider No-JS SSO' }).click();
    await plain.waitForURL(/done=removed/);
    await noJs.close();
    expect(
      (await auditOf('custom_domain_changed')).map((e) => [
        e.actor,
        JSON.parse(String(e.data.before)).customDomain,
        JSON.parse(String(e.data.after)).customDomain,
      ]),
    ).toEqual([
      ['admin:dora@acme.example', null, 'secure.acme-bank.example'],
      ['admin:dora@acme.example', 'secure.acme-bank.example', null],
    ]);
    await context.close();
  });
});
