import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withState, SETUP_TIMEOUT_MS, startFederated, type TFederated } from './helpers/federated';
import { requestAs } from './helpers/server';

// Replayed callbacks, the hand-off to the tenant host, and the auth host serving nothing else.

let federated: TFederated | undefined;
let { server, port, authOrigin, links, pausedAtCallback, deliver, isHandedOff, isSentBack } = {} as TFederated;
beforeAll(async () => {
  federated = await startFederated();
  ({ server, port, authOrigin, links, pausedAtCallback, deliver, isHandedOff, isSentBack } = federated);
}, SETUP_TIMEOUT_MS);
afterAll(() => federated?.stop());

const bob = { link: '', button: 'Sign in with Google', login: 'bob@gmail.com' };

describe('replays are refused', () => {
  beforeAll(() => {
    bob.link = links['acme:bob@gmail.com']!;
  });

  it('the same callback (code and state) twice: handed off once, refused after', async () => {
    const a = await pausedAtCallback(bob);
    expect(isHandedOff(await deliver(a.callbackUrl, a.cookies))).toBe(true);
    const again = await deliver(a.callbackUrl, a.cookies);
    expect(isHandedOff(again)).toBe(false);
    expect(again.status).toBe(400);
    await a.context.close();
  });

  it('a used authorization code in a new sign-in, a state from another sign-in, an ID token for another nonce', async () => {
    const used = await pausedAtCallback(bob);
    expect(isHandedOff(await deliver(used.callbackUrl, used.cookies))).toBe(true);
    // The code already exchanged, with a fresh sign-in's own state and cookies: the provider refuses.
    const fresh = await pausedAtCallback(bob);
    const replayedCode = new URL(fresh.callbackUrl);
    replayedCode.searchParams.set('code', used.callbackUrl.searchParams.get('code')!);
    expect(isSentBack(await deliver(replayedCode, fresh.cookies))).toBe(true);

    // A state that is not this browser's.
    const c = await pausedAtCallback(bob);
    expect(isSentBack(await deliver(withState(c.callbackUrl, used.callbackUrl.searchParams.get('state')!), c.cookies))).toBe(true);

    // E's sign-in with F's code and F's PKCE verifier: state and PKCE hold, but the ID token carries
    // F's nonce, not E's.
    const e = await pausedAtCallback(bob);
    const f = await pausedAtCallback(bob);
    const pkce = 'next-auth.pkce.code_verifier';
    const mixed = { ...e.cookies, [pkce]: f.cookies[pkce]! };
    expect(isSentBack(await deliver(withState(f.callbackUrl, e.callbackUrl.searchParams.get('state')!), mixed))).toBe(true);
    // The harness itself delivers a good sign-in: a sign-in with its own cookies is handed off.
    const g = await pausedAtCallback(bob);
    expect(isHandedOff(await deliver(g.callbackUrl, g.cookies))).toBe(true);
    for (const p of [used, fresh, c, e, f, g]) await p.context.close();
  });

  it("a callback for one provider, replayed at another provider's address", async () => {
    const h = await pausedAtCallback(bob);
    expect(isSentBack(await deliver(h.callbackUrl, h.cookies, '/api/auth/callback/microsoft'))).toBe(true);
    expect(isHandedOff(await deliver(h.callbackUrl, h.cookies))).toBe(false);
    await h.context.close();
  });
});

describe('the hand-off to the tenant host', () => {
  beforeAll(() => {
    bob.link = links['acme:bob@gmail.com']!;
  });

  it("is taken once, only on its tenant's host, only in the browser that started the sign-in", async () => {
    const { context, callbackUrl, cookies } = await pausedAtCallback(bob);
    const handoff = new URL(String((await deliver(callbackUrl, cookies)).headers.location));
    expect(handoff.origin).toBe(`http://acme.localhost:${port}`);
    const binding = (await context.cookies(`http://acme.localhost:${port}`)).find((c) => c.name === 'sealpost-federated')!;
    const target = `${handoff.pathname}${handoff.search}`;
    const take = (host: string, cookie?: string) => requestAs(port, `${host}:${port}`, target, { headers: cookie ? { cookie } : {} });
    const withBinding = `sealpost-federated=${binding.value}`;
    const otherTenant = await take('beta.localhost', withBinding);
    expect(otherTenant.status).toBe(400);
    expect(otherTenant.body).toContain('This sign-in cannot be used');
    expect((await take('acme.localhost')).status).toBe(400);
    const taken = await take('acme.localhost', withBinding);
    expect(taken.status).toBe(303);
    expect(taken.headers.location).toMatch(/^\/m\/[0-9a-f-]{36}$/);
    expect(String(taken.headers['set-cookie'])).toContain('sealpost-session=');
    expect((await take('acme.localhost', withBinding)).status).toBe(400);
    await context.close();
  });
});

describe('the auth host', () => {
  it('serves federated sign-in and nothing else, and no other host serves it', async () => {
    const status = async (host: string, target: string) => (await requestAs(port, `${host}:${port}`, target)).status;
    for (const target of [
      '/',
      '/mailbox',
      '/api/health',
      '/api/v1/messages',
      '/api/auth/providers',
      '/api/auth/session',
      '/api/auth/csrf',
      '/api/auth/signin/google',
      '/api/auth/signout',
      '/r/x',
      '/m/x',
    ]) {
      expect(await status('auth.localhost', target), target).toBe(404);
    }
    // next-auth's own sign-in and error pages are never shown: they end the sign-in.
    for (const target of ['/api/auth/signin', '/api/auth/error?error=OAuthCallback']) {
      expect((await requestAs(port, `auth.localhost:${port}`, target)).headers.location).toBe(`${authOrigin}/federated/error`);
    }
    expect(await status('acme.localhost', '/api/auth/callback/google?code=x&state=y')).toBe(404);
    expect(await status('localhost', '/api/auth/callback/google?code=x&state=y')).toBe(404);
    expect(await status('localhost', '/federated/AAAAAAAAAAAAAAAAAAAAAA')).toBe(404);
    expect(await status('127.0.0.1', '/federated/error')).toBe(404);
  });

  it('logs no client secret, code, state or address of a sign-in', async () => {
    // One more sign-in that fails, so that there is a failure to log.
    const paused = await pausedAtCallback({
      link: links['acme:bob@gmail.com']!,
      button: 'Sign in with Google',
      login: 'stranger@gmail.com',
    });
    expect(isSentBack(await deliver(paused.callbackUrl, paused.cookies, '/api/auth/callback/microsoft'))).toBe(true);
    await paused.context.close();
    const logs = server.output();
    expect(logs).toContain('"reason":"wrong_provider","msg":"federated sign-in failed"');
    expect(logs).not.toContain(paused.callbackUrl.searchParams.get('code')!);
    expect(logs).not.toContain(paused.callbackUrl.searchParams.get('state')!);
    for (const secret of [
      'google-client-secret',
      'microsoft-client-secret',
      'acme-client-secret',
      'stranger@gmail.com',
      'code=',
      'state=',
    ]) {
      expect(logs, secret).not.toContain(secret);
    }
  });
});
