import crypto from 'node:crypto';
import type { AuthOptions } from 'next-auth';
import { decode } from 'next-auth/jwt';
import NextAuth from 'next-auth/next';
import AzureADProvider from 'next-auth/providers/azure-ad';
import GoogleProvider from 'next-auth/providers/google';
import type { OAuthConfig } from 'next-auth/providers/oauth';
import { NextRequest } from 'next/server';
import { deriveKey } from '../../envelope/aead';
import { getLiveTenantKeys } from '../../envelope/tenant-keys';
import { logger } from '../../logger';
import type { TContext } from '../../server/context';
import { authOrigin } from './auth-host';
import { providerClientSecret, type TIdentityProvider } from './identity-providers';

// next-auth runs the OAuth part of federated sign-in on the auth host: the authorization request
// with state, PKCE and nonce (kept in its encrypted cookies), the code exchange, and the ID
// token's checks (signature, issuer, audience, expiry, nonce) through openid-client. It keeps no
// session of its own: its signIn callback hands the proven identity to Sealpost, which answers
// with the redirect back to the tenant host.

// One redirect URI per provider, on the auth host: next-auth builds it from NEXTAUTH_URL, which is
// set here from our configuration (never from a request's Host header).
function pinAuthUrl(ctx: TContext) {
  process.env.NEXTAUTH_URL = `${authOrigin(ctx.config)}/api/auth`;
}

// next-auth's secret (its state, PKCE, nonce and CSRF cookies) is the sign-in's tenant's own,
// made under the current tenant key version. next-auth reads its cookies under one secret, so a
// sign-in already under way when the key rotated keeps the secret its cookies were made under,
// while that version is within its grace (getLiveTenantKeys); anything else gets the current one.
async function nextAuthSecret(ctx: TContext, tenantId: string, cookies: Record<string, string>, now: number): Promise<string> {
  const keys = await getLiveTenantKeys({ db: ctx.db, master: ctx.master, tenantId, now });
  const secrets = keys.map((k) => deriveKey(k.key, 'federated-sign-in').toString('base64url'));
  for (const secret of secrets.slice(1)) {
    if (await isMadeUnder(cookies, secret)) return secret;
  }
  return secrets[0]!;
}

// Whether any of next-auth's cookies was made under this secret: its encrypted check cookies
// decrypt (salted with their own name, as next-auth does), or its CSRF cookie's hash matches.
async function isMadeUnder(cookies: Record<string, string>, secret: string): Promise<boolean> {
  for (const [name, value] of Object.entries(cookies)) {
    if (/next-auth\.(state|nonce|pkce\.code_verifier)$/.test(name)) {
      try {
        if (await decode({ token: value, secret, salt: name })) return true;
      } catch {
        // not this secret's
      }
    } else if (/next-auth\.csrf-token$/.test(name)) {
      const [token, hash] = value.split('|');
      if (token && hash && crypto.createHash('sha256').update(`${token}${secret}`).digest('hex') === hash) return true;
    }
  }
  return false;
}

async function toNextAuthProvider(ctx: TContext, provider: TIdentityProvider): Promise<OAuthConfig<Record<string, unknown>>> {
  const common = {
    clientId: provider.clientId,
    clientSecret: await providerClientSecret(ctx, provider),
    wellKnown: `${provider.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    idToken: true,
    // All three, always: Google's own default leaves the nonce out.
    checks: ['pkce', 'state', 'nonce'] as Array<'pkce' | 'state' | 'nonce'>,
    authorization: { params: { scope: 'openid email profile' } },
    httpOptions: { timeout: 10_000 },
    // The claims are judged in the signIn callback; next-auth keeps nothing of the profile.
    profile: (claims: Record<string, unknown>) => ({ id: String(claims.sub), email: null, name: null, image: null }),
  };
  if (provider.kind === 'google') return GoogleProvider(common) as OAuthConfig<Record<string, unknown>>;
  if (provider.kind === 'microsoft')
    return AzureADProvider({ ...common, id: 'microsoft', name: 'Microsoft' }) as OAuthConfig<Record<string, unknown>>;
  return { ...common, id: provider.id, name: provider.label, type: 'oauth', options: common };
}

export type TOnIdentity = (claims: Record<string, unknown>) => Promise<string>;

// cookies: the request's, to find the secret a sign-in under way was begun with.
export type BuildAuthOptionsOptions = {
  ctx: TContext;
  tenantId: string;
  provider: TIdentityProvider;
  onIdentity?: TOnIdentity;
  cookies?: Record<string, string>;
  now?: number;
};

// next-auth's options for one sign-in: the one provider it is with, nothing else.
export async function buildAuthOptions({
  ctx,
  tenantId,
  provider,
  onIdentity,
  cookies = {},
  now = Date.now(),
}: BuildAuthOptionsOptions): Promise<AuthOptions> {
  pinAuthUrl(ctx);
  const errorPage = `${authOrigin(ctx.config)}/federated/error`;
  return {
    secret: await nextAuthSecret(ctx, tenantId, cookies, now),
    providers: [await toNextAuthProvider(ctx, provider)],
    session: { strategy: 'jwt', maxAge: 60 },
    useSecureCookies: ctx.config.publicScheme === 'https',
    pages: { signIn: errorPage, error: errorPage },
    callbacks: {
      // A string is where next-auth redirects instead of starting a session of its own.
      signIn: async ({ profile }) => (onIdentity ? onIdentity((profile ?? {}) as Record<string, unknown>) : false),
      // No caller-supplied destination is ever followed.
      redirect: async () => errorPage,
    },
    // next-auth's messages can quote states, codes and provider answers: only codes are logged.
    logger: {
      error: (code: string, metadata: unknown) =>
        logger.warn(
          { code, err: metadata instanceof Error ? metadata.name : (metadata as { error?: Error })?.error?.name },
          'federated sign-in refused',
        ),
      warn: (code: string) => logger.warn({ code }, 'next-auth warning'),
      debug: () => {},
    },
  };
}

export type RunNextAuthOptions = {
  ctx: TContext;
  options: AuthOptions;
  action: 'csrf' | 'signin';
  providerId?: string;
  form?: Record<string, string>;
  query?: Record<string, string>;
};

// next-auth's own handler, asked on the server for one of its actions (with the cookies of the
// request being handled): how the auth host gets a CSRF token and an authorization redirect
// without a page of next-auth's in between.
export async function runNextAuth({ ctx, options, action, providerId, form, query = {} }: RunNextAuthOptions): Promise<Response> {
  const url = new URL(`${authOrigin(ctx.config)}/api/auth/${action}${providerId ? `/${providerId}` : ''}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const request = form
    ? new NextRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      })
    : new NextRequest(url);
  return NextAuth(
    request,
    { params: Promise.resolve({ nextauth: providerId ? [action, providerId] : [action] }) },
    options,
  ) as Promise<Response>;
}

export type HandleCallbackOptions = { request: NextRequest; options: AuthOptions; providerId: string };

// The provider's redirect back, handed to next-auth as it came.
export const handleNextAuthCallback = ({ request, options, providerId }: HandleCallbackOptions) =>
  NextAuth(request, { params: Promise.resolve({ nextauth: ['callback', providerId] }) }, options) as Promise<Response>;
