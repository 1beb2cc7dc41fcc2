import { decode, encode } from 'next-auth/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimAtAuthHost,
  consumeHandoff,
  FEDERATED_TTL_MS,
  HANDOFF_TTL_MS,
  loadAtAuthHost,
  recordIdentity,
  startFederatedSignIn,
} from '@/lib/auth/federated/federated-signin';
import { buildAuthOptions } from '@/lib/auth/federated/next-auth';
import { getProvider, listOfferedProviders, providerClientSecret } from '@/lib/auth/federated/identity-providers';
import { addIdentityProvider, listIdentityProviders, removeIdentityProvider } from '@/lib/auth/federated/tenant-identity-providers';
import { MICROSOFT_CONSUMER_TENANT, verifiedAddress } from '@/lib/auth/federated/verified-address';
// The flat shape `sealpost branding set` takes: its defaults are a template's.
import { ZFlatBranding as ZBranding } from '@/lib/templates/schema';
import { ConfigError, parseConfig } from '@/lib/env';
import { createRecipientToken } from '@/lib/envelope/recipient-token';
import { addTenantKeyVersion, KEY_GRACE_MS } from '@/lib/envelope/tenant-keys';
import { sendMessage } from '@/lib/messages/send-message';
import { listRecipients } from '@/lib/store/messages';
import { getBranding } from '@/lib/templates/get-branding';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { errorCode } from './helpers/errors';
import { newIp } from './helpers/ip';
import { startOidcProvider, type TOidcProvider } from './helpers/oidc-provider';

let ctx: TTestContext;
let tenant: TTenant;
let other: TTenant;
let idp: TOidcProvider;

beforeAll(async () => {
  ctx = await createTestContext({ SEALPOST_GOOGLE_CLIENT_ID: 'g-id', SEALPOST_GOOGLE_CLIENT_SECRET: 'g-secret' });
  tenant = await seedTenant(ctx);
  other = await seedTenant(ctx);
  idp = await startOidcProvider({
    path: '/idp',
    client: { clientId: 'c', clientSecret: 's', redirectUris: ['http://auth.localhost:3000/api/auth/callback/x'] },
    accounts: {},
  });
});
afterAll(async () => {
  await idp?.close();
  await ctx?.close();
});

describe('the address an ID token proves', () => {
  const google = { kind: 'google' as const, trustedDomains: [] };
  const microsoft = { kind: 'microsoft' as const, trustedDomains: [] };
  const own = { kind: 'oidc' as const, trustedDomains: ['acme.example'] };
  it.each([
    ['Google, email_verified true', google, { email: 'Bob@Gmail.com', email_verified: true }, 'ok', 'bob@gmail.com'],
    ['Google, email_verified false', google, { email: 'bob@gmail.com', email_verified: false }, 'unverified', 'bob@gmail.com'],
    ['Google, no email_verified', google, { email: 'bob@gmail.com' }, 'unverified', 'bob@gmail.com'],
    ['Google, email_verified "true" (a string)', google, { email: 'bob@gmail.com', email_verified: 'true' }, 'unverified', 'bob@gmail.com'],
    ['Google, no email', google, { email_verified: true }, 'unverified', null],
    ['Google, a malformed email', google, { email: 'bob@localhost', email_verified: true }, 'unverified', null],
    ['Google, header injection in the email', google, { email: 'bob@gmail.com\r\nBcc: x@y.com', email_verified: true }, 'unverified', null],
    ['Microsoft, xms_edov true', microsoft, { email: 'dave@contoso.com', xms_edov: true, tid: 'a' }, 'ok', 'dave@contoso.com'],
    ['Microsoft, xms_edov "1"', microsoft, { email: 'dave@contoso.com', xms_edov: '1', tid: 'a' }, 'ok', 'dave@contoso.com'],
    ['Microsoft, xms_edov false', microsoft, { email: 'dave@contoso.com', xms_edov: false, tid: 'a' }, 'unverified', 'dave@contoso.com'],
    ['Microsoft, a personal account', microsoft, { email: 'frank@outlook.com', tid: MICROSOFT_CONSUMER_TENANT }, 'ok', 'frank@outlook.com'],
    [
      'Microsoft, a work account with only email (nOAuth)',
      microsoft,
      { email: 'dave@contoso.com', tid: 'attacker' },
      'unverified',
      'dave@contoso.com',
    ],
    [
      'Microsoft, email_verified from a claims mapping',
      microsoft,
      { email: 'dave@contoso.com', tid: 'attacker', email_verified: true },
      'unverified',
      'dave@contoso.com',
    ],
    ['own provider, email_verified true', own, { email: 'x@elsewhere.example', email_verified: true }, 'ok', 'x@elsewhere.example'],
    ['own provider, a trusted domain', own, { email: 'alice@acme.example' }, 'ok', 'alice@acme.example'],
    ['own provider, a subdomain of a trusted domain', own, { email: 'alice@evil.acme.example' }, 'unverified', 'alice@evil.acme.example'],
    ['own provider, another domain', own, { email: 'bob@gmail.com' }, 'unverified', 'bob@gmail.com'],
  ])('%s → %s', (_name, provider, claims, outcome, address) => {
    expect(verifiedAddress({ provider, claims })).toEqual({ outcome, address });
  });
});

describe('tenant identity providers', () => {
  const input = (name: string, issuer = idp.issuer) => ({
    name,
    displayName: 'Staff sign-in',
    issuer,
    clientId: 'client-1',
    clientSecret: 'the-client-secret',
    trustedDomains: ['acme.example'],
  });

  it('are checked against their discovery document and keep the client secret sealed under the tenant key', async () => {
    const added = await addIdentityProvider({ ctx, tenant, input: input('staff') });
    expect(added).toMatchObject({
      id: `oidc-${tenant.slug}-staff`,
      issuer: idp.issuer,
      redirectUri: `http://auth.localhost:3000/api/auth/callback/oidc-${tenant.slug}-staff`,
    });
    const row = await ctx.db.selectFrom('identity_providers').selectAll().where('id', '=', added.id).executeTakeFirstOrThrow();
    expect(Buffer.from(row.client_secret).includes(Buffer.from('the-client-secret'))).toBe(false);
    const provider = (await getProvider({ ctx, tenantId: tenant.id, providerId: added.id }))!;
    await expect(providerClientSecret(ctx, provider)).resolves.toBe('the-client-secret');
    expect(JSON.stringify(await listIdentityProviders({ ctx, tenant }))).not.toContain('the-client-secret');
    // Another tenant cannot use it, even by id.
    await expect(getProvider({ ctx, tenantId: other.id, providerId: added.id })).resolves.toBeUndefined();
  });

  it.each([
    ['a plain http issuer off this machine', 'http://idp.example.com'],
    ['an issuer with a query', 'https://idp.example.com/?x=1'],
    ['an issuer with credentials', 'https://user:pass@idp.example.com'],
    ['not a URL', 'idp.example.com'],
  ])('refuse %s', async (_name, issuer) => {
    await expect(errorCode(addIdentityProvider({ ctx, tenant, input: input('bad', issuer) }))).resolves.toBe('BAD_REQUEST');
  });

  it('refuse an issuer whose discovery document names another issuer, or none that answers', async () => {
    const mismatch = `${idp.issuer.replace('/idp', '')}/idp/`;
    await expect(errorCode(addIdentityProvider({ ctx, tenant, input: input('elsewhere', `${idp.issuer}x`) }))).resolves.toBe('BAD_REQUEST');
    await expect(errorCode(addIdentityProvider({ ctx, tenant, input: input('down', 'http://127.0.0.1:9/idp') }))).resolves.toBe(
      'BAD_REQUEST',
    );
    await expect(addIdentityProvider({ ctx, tenant, input: input('slash', mismatch) })).resolves.toMatchObject({ issuer: idp.issuer });
    await expect(errorCode(addIdentityProvider({ ctx, tenant, input: input('staff') }))).resolves.toBe('CONFLICT');
    await expect(removeIdentityProvider({ ctx, tenant, name: 'slash' })).resolves.toEqual({ removed: 'slash' });
    await expect(errorCode(removeIdentityProvider({ ctx, tenant, name: 'slash' }))).resolves.toBe('NOT_FOUND');
  });

  it('a template offers only its own methods, and names only providers that exist', async () => {
    await expect(
      errorCode(setBranding({ db: ctx.db, tenantId: tenant.id, template: 'x', input: { signInMethods: { oidc: ['nosuch'] } } })),
    ).resolves.toBe('BAD_REQUEST');
    await expect(
      errorCode(setBranding({ db: ctx.db, tenantId: other.id, template: 'x', input: { signInMethods: { oidc: ['staff'] } } })),
    ).resolves.toBe('BAD_REQUEST');
    await setBranding({
      db: ctx.db,
      tenantId: tenant.id,
      template: 'staff-only',
      input: { signInMethods: { passcode: false, google: false, oidc: ['staff'] } },
    });
    const offered = async (template: string) =>
      (await listOfferedProviders({ ctx, tenant, branding: await getBranding(ctx.db, tenant.id, template) })).map((p) => p.id);
    await expect(offered('staff-only')).resolves.toEqual([`oidc-${tenant.slug}-staff`]);
    // Microsoft is on by default but not configured by this operator; Google is configured.
    await expect(offered('default')).resolves.toEqual(['google']);
    expect(ZBranding.parse({}).signInMethods).toEqual({ passcode: true, microsoft: true, google: true, oidc: [] });
  });
});

describe('a federated sign-in, step by step', () => {
  async function newSignIn(now = Date.now()) {
    const { messageId } = await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }), deliver: false });
    const [recipient] = await listRecipients(ctx.db, messageId);
    const linkToken = await createRecipientToken({
      db: ctx.db,
      master: ctx.master,
      tenantId: tenant.id,
      claims: { messageId, recipientId: recipient!.id, address: recipient!.address },
    });
    const started = await startFederatedSignIn({
      ctx,
      tenant,
      linkToken,
      providerId: 'google',
      isKept: false,
      isSwitchingAccount: false,
      ip: newIp(),
      now,
    });
    return { ...started, linkToken, messageId };
  }

  it('is taken over by one auth-host browser, once, and only before it expires', async () => {
    const t0 = Date.now();
    const { id } = await newSignIn(t0);
    const claimed = await claimAtAuthHost({ ctx, id, now: t0 + 1000 });
    await expect(loadAtAuthHost({ ctx, cookieValue: claimed.cookieValue, now: t0 + 2000 })).resolves.toMatchObject({ signIn: { id } });
    await expect(errorCode(claimAtAuthHost({ ctx, id, now: t0 + 2000 }))).resolves.toBe('UNAUTHORIZED');
    await expect(errorCode(loadAtAuthHost({ ctx, cookieValue: `${id}.${'A'.repeat(43)}`, now: t0 + 2000 }))).resolves.toBe('UNAUTHORIZED');
    await expect(errorCode(loadAtAuthHost({ ctx, cookieValue: claimed.cookieValue, now: t0 + FEDERATED_TTL_MS }))).resolves.toBe(
      'UNAUTHORIZED',
    );
    const late = await newSignIn(t0);
    await expect(errorCode(claimAtAuthHost({ ctx, id: late.id, now: t0 + FEDERATED_TTL_MS }))).resolves.toBe('UNAUTHORIZED');
  });

  it("offers only what the template allows: an unknown provider or another tenant's is refused", async () => {
    const { linkToken } = await newSignIn();
    for (const providerId of ['microsoft', 'oidc-x-y', `oidc-${other.slug}-staff`, '']) {
      await expect(
        errorCode(startFederatedSignIn({ ctx, tenant, linkToken, providerId, isKept: false, isSwitchingAccount: false, ip: newIp() })),
      ).resolves.toBe('FORBIDDEN');
    }
    // A link of one tenant is no link on another's host.
    await expect(
      errorCode(
        startFederatedSignIn({
          ctx,
          tenant: other,
          linkToken,
          providerId: 'google',
          isKept: false,
          isSwitchingAccount: false,
          ip: newIp(),
        }),
      ),
    ).resolves.toBe('ENVELOPE_INVALID');
  });

  it('hands off once: to its tenant, in its browser, within its minute', async () => {
    const t0 = Date.now();
    const consume = async (o: { tenant?: TTenant; cookieValue: string; handoff: string; id: string; now: number }) =>
      consumeHandoff({
        ctx,
        tenant: o.tenant ?? tenant,
        purpose: 'recipient',
        id: o.id,
        handoff: o.handoff,
        cookieValue: o.cookieValue,
        now: o.now,
      });
    const a = await newSignIn(t0);
    const claimedA = await claimAtAuthHost({ ctx, id: a.id, now: t0 });
    const handoffA = await recordIdentity({ ctx, signIn: claimedA.signIn, outcome: 'ok', address: 'bob@gmail.com', now: t0 });
    // A second identity for the same sign-in is refused: the callback is taken once.
    await expect(
      errorCode(recordIdentity({ ctx, signIn: claimedA.signIn, outcome: 'ok', address: 'eve@gmail.com', now: t0 })),
    ).resolves.toBe('UNAUTHORIZED');
    const b = await newSignIn(t0);
    await expect(errorCode(consume({ ...a, handoff: handoffA, tenant: other, now: t0 + 1 }))).resolves.toBe('ENVELOPE_INVALID');
    await expect(errorCode(consume({ ...a, handoff: handoffA, cookieValue: b.cookieValue, now: t0 + 1 }))).resolves.toBe(
      'ENVELOPE_INVALID',
    );
    await expect(errorCode(consume({ ...a, handoff: handoffA.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), now: t0 + 1 }))).resolves.toBe(
      'ENVELOPE_INVALID',
    );
    await expect(errorCode(consume({ ...a, handoff: handoffA, now: t0 + HANDOFF_TTL_MS }))).resolves.toBe('ENVELOPE_INVALID');
    // None of those used it up: the right browser, in time, takes it — once.
    await expect(consume({ ...a, handoff: handoffA, now: t0 + 1 })).resolves.toMatchObject({
      address: 'bob@gmail.com',
      outcome: 'ok',
      status: 'consumed',
    });
    await expect(errorCode(consume({ ...a, handoff: handoffA, now: t0 + 2 }))).resolves.toBe('ENVELOPE_INVALID');
  });
});

describe("next-auth's secret rotates with the tenant key", () => {
  const HOUR = 3_600_000;
  const STATE = 'next-auth.state';
  // A state cookie as next-auth makes one (salted with its name), and whether next-auth, given
  // these options, would read it back (its checks decode with options.jwt, whose secret is
  // options.secret, salted the same way).
  const stateCookie = async (secret: string) =>
    encode({ secret, salt: STATE, maxAge: 900, token: { value: 'state-value', provider: 'google' } });
  const reads = (options: { secret?: string }, value: string) =>
    decode({ secret: options.secret!, token: value, salt: STATE }).then(
      (p) => p?.value === 'state-value',
      () => false,
    );

  async function rotatedTenant(retiredAt: (t0: number) => number) {
    const t0 = Date.now();
    const t = await seedTenant(ctx);
    const provider = (await getProvider({ ctx, tenantId: t.id, providerId: 'google' }))!;
    const build = (cookies: Record<string, string>, now: number) => buildAuthOptions({ ctx, tenantId: t.id, provider, cookies, now });
    const before = await build({}, t0);
    const oldCookie = await stateCookie(before.secret!);
    await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId: t.id, now: retiredAt(t0) });
    return { t0, before, oldCookie, build };
  }

  it('a sign-in begun before the rotation finishes after it; a new one is made under the new version only', async () => {
    const { t0, before, oldCookie, build } = await rotatedTenant((t0) => t0 + 1000);
    const fresh = await build({}, t0 + 2000);
    expect(fresh.secret).not.toBe(before.secret);
    const newCookie = await stateCookie(fresh.secret!);
    expect(await reads(fresh, newCookie)).toBe(true);
    expect(await reads(before, newCookie), "a new cookie does not open under the old version's secret").toBe(false);
    expect(await reads(fresh, oldCookie)).toBe(false);
    // The callback of the sign-in under way: its cookies pick the secret they were made under.
    const callback = await build({ [STATE]: oldCookie }, t0 + HOUR);
    expect(await reads(callback, oldCookie)).toBe(true);
    // A forged or foreign cookie picks nothing: the current secret.
    expect((await build({ [STATE]: `${oldCookie.slice(0, -4)}AAAA` }, t0 + HOUR)).secret).toBe(fresh.secret);
  });

  it('an old-version cookie is no longer read once its version has been retired for the grace', async () => {
    const { t0, oldCookie, build } = await rotatedTenant((t0) => t0 - KEY_GRACE_MS + HOUR);
    expect(await reads(await build({ [STATE]: oldCookie }, t0 + HOUR - 1000), oldCookie)).toBe(true);
    expect(await reads(await build({ [STATE]: oldCookie }, t0 + HOUR), oldCookie)).toBe(false);
  });

  it("next-auth's CSRF cookie made before the rotation keeps its secret too", async () => {
    const { t0, before, build } = await rotatedTenant((t0) => t0 + 1000);
    const token = 'a'.repeat(64);
    const crypto = await import('node:crypto');
    const csrf = `${token}|${crypto.createHash('sha256').update(`${token}${before.secret}`).digest('hex')}`;
    expect((await build({ 'next-auth.csrf-token': csrf }, t0 + HOUR)).secret).toBe(before.secret);
    expect((await build({}, t0 + HOUR)).secret).not.toBe(before.secret);
  });
});

describe('configuration', () => {
  it.each([
    [{ SEALPOST_GOOGLE_CLIENT_ID: 'x' }, 'SEALPOST_GOOGLE_CLIENT_SECRET'],
    [{ SEALPOST_MICROSOFT_CLIENT_SECRET: 'x' }, 'SEALPOST_MICROSOFT_CLIENT_ID'],
    [{ SEALPOST_GOOGLE_ISSUER: 'http://accounts.example.com' }, 'SEALPOST_GOOGLE_ISSUER'],
    [{ SEALPOST_AUTH_HOST: 'not a host' }, 'SEALPOST_AUTH_HOST'],
  ])('%j is refused, naming %s', (env, variable) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(variable);
  });

  it('the auth host is auth.<base domain> unless set', () => {
    expect(parseConfig({ SEALPOST_BASE_DOMAIN: 'mail.example.com' }).authHost).toBe('auth.mail.example.com');
    expect(parseConfig({ SEALPOST_AUTH_HOST: 'login.example.com' }).authHost).toBe('login.example.com');
  });
});
