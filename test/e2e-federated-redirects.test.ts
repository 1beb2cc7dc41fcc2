import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETUP_TIMEOUT_MS, startFederated, type TFederated } from './helpers/federated';
import { requestAs } from './helpers/server';

// Open redirects: every corpus URL (test/corpora/redirect) as a callback or return URL or a path.

let federated: TFederated | undefined;
let { port, authOrigin, links, pausedAtCallback, deliver, isHandedOff } = {} as TFederated;
beforeAll(async () => {
  federated = await startFederated();
  ({ port, authOrigin, links, pausedAtCallback, deliver, isHandedOff } = federated);
}, SETUP_TIMEOUT_MS);
afterAll(() => federated?.stop());

const REDIRECT_DIR = new URL('./corpora/redirect/', import.meta.url);
const REDIRECTS = fs
  .readdirSync(REDIRECT_DIR)
  .filter((f) => f.endsWith('.txt') && !f.startsWith('LICENSE'))
  .flatMap((f) => fs.readFileSync(new URL(f, REDIRECT_DIR), 'utf8').split('\n'))
  .map((line) => line.replace(/\r$/, ''))
  .filter((line) => line.trim() !== '');
// A request target as a browser sends it: anything outside printable ASCII percent-encoded.
const asTarget = (path: string) => path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
const RETURN_PARAMS = ['callbackUrl', 'returnTo', 'return_to', 'next', 'redirect', 'redirect_uri', 'url'];

describe(`open redirects (${REDIRECTS.length} corpus URLs)`, () => {
  it("no corpus URL, as a callback or return URL or as a path, sends a browser off the tenant's or the auth host's origin", async () => {
    const acme = `http://acme.localhost:${port}`;
    const allowed = new Set([acme, authOrigin]);
    const token = links['acme:bob@gmail.com']!.split('/r/')[1]!;
    let tried = 0;
    const check = async (host: 'acme' | 'auth', target: string, cookie = '') => {
      const origin = host === 'acme' ? acme : authOrigin;
      const r = await requestAs(port, new URL(origin).host, asTarget(target), { headers: cookie ? { cookie } : {} });
      tried += 1;
      const destinations = [
        r.headers.location,
        ...[...r.body.matchAll(/http-equiv="refresh" content="0;url=([^"]*)"/g)].map((m) => m[1]),
      ].filter(Boolean) as string[];
      for (const d of destinations) {
        const resolved = new URL(d.replaceAll('&amp;', '&'), `${origin}${asTarget(target).startsWith('/') ? '' : '/'}`);
        if (!allowed.has(resolved.origin)) throw new Error(`${host} ${target} → ${d} (${resolved.origin})`);
      }
    };
    for (const payload of REDIRECTS) {
      const returns = RETURN_PARAMS.map((p) => `${p}=${encodeURIComponent(payload)}`).join('&');
      const callbackCookie = `next-auth.callback-url=${encodeURIComponent(payload)}`;
      if (payload.startsWith('/')) {
        await check('acme', payload);
        await check('auth', payload);
      }
      await check('acme', `/r/${token}?${returns}`);
      await check('acme', `/federated/complete?id=AAAAAAAAAAAAAAAAAAAAAA&h=x&${returns}`);
      await check('auth', `/federated/error?${returns}`, callbackCookie);
      await check('auth', `/federated/AAAAAAAAAAAAAAAAAAAAAA?${returns}`);
      await check('auth', `/api/auth/signin/google?${returns}`, callbackCookie);
      await check('auth', `/api/auth/callback/google?code=x&state=y&${returns}`, callbackCookie);
    }
    expect(tried).toBeGreaterThan(REDIRECTS.length * 6);
  });

  it('a good sign-in carrying corpus URLs as callback URLs still hands off to the tenant host only', async () => {
    for (const payload of [REDIRECTS[0]!, REDIRECTS.find((p) => p.startsWith('/\\'))!, REDIRECTS.at(-1)!]) {
      const paused = await pausedAtCallback({ link: links['acme:bob@gmail.com']!, button: 'Sign in with Google', login: 'bob@gmail.com' });
      const url = new URL(paused.callbackUrl);
      for (const p of RETURN_PARAMS) url.searchParams.set(p, payload);
      const r = await deliver(url, { ...paused.cookies, 'next-auth.callback-url': encodeURIComponent(payload) });
      expect(isHandedOff(r), `${payload} → ${r.headers.location}`).toBe(true);
      await paused.context.close();
    }
  });
});
