import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export type TAccountClaims = Record<string, string | boolean | number>;

export type StartOidcProviderOptions = {
  // Path the issuer lives under, e.g. '/google' (the issuer is http://127.0.0.1:<port><path>).
  path?: string;
  client: { clientId: string; clientSecret: string; redirectUris: string[] };
  // Login name → the claims the provider asserts for that account (sub is the login name).
  accounts: Record<string, TAccountClaims>;
  // Claims beyond the standard ones that this provider puts in its ID tokens.
  extraClaims?: string[];
};

export type TOidcProvider = { issuer: string; port: number; close(): Promise<void> };

// A real OpenID Connect provider (panva's oidc-provider) on loopback, with its development login
// page: any account listed in `accounts` signs in with any password. It asserts exactly the
// claims given, so one helper plays Google, Microsoft or a tenant's own provider by claim shape.
export async function startOidcProvider({
  path = '',
  client,
  accounts,
  extraClaims = [],
}: StartOidcProviderOptions): Promise<TOidcProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}${path}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: client.redirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'test-key', use: 'sig', alg: 'RS256' }] },
    claims: { openid: ['sub', ...extraClaims], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    // next-auth reads the profile from the ID token: put the granted claims in it.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['test-cookie-key'] },
    async findAccount(_ctx, sub) {
      const claims = accounts[sub];
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
    // A first-party provider: no consent screen, the grant covers what was asked for.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  // Silence the provider's own warnings about development settings and http.
  provider.on('server_error', () => {});
  const callback = provider.callback();
  server.on('request', (req, res) => {
    // Google's and Microsoft's account chooser (prompt=select_account) is, here, a new sign-in.
    if (req.url?.includes('prompt=select_account')) req.url = req.url.replace('prompt=select_account', 'prompt=login');
    // Mounted under a path as express mounts it: the provider finds its prefix in originalUrl.
    if (path && req.url?.startsWith(path)) {
      Object.assign(req, { originalUrl: req.url });
      req.url = req.url.slice(path.length) || '/';
    } else if (path) {
      res.statusCode = 404;
      return res.end();
    }
    callback(req, res);
  });
  return { issuer, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
