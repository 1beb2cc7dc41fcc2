import { readRecipientToken } from '../../envelope/recipient-token';
import type { TContext } from '../../server/context';
import { authOrigin } from './auth-host';
import type { TAuthHostSignIn } from './federated-signin';
import { buildAuthOptions, runNextAuth } from './next-auth';

export type RequestAuthorizationOptions = { ctx: TContext; loaded: TAuthHostSignIn; cookies: Record<string, string> };

export type TAuthorizationOutcome =
  // On to the provider; next-auth's answer carries the cookies (state, PKCE, nonce) to keep.
  { kind: 'redirect'; location: string; answered: Response } | { kind: 'failed'; reason: 'no_cookies' | 'authorization_request' };

// next-auth's authorization request for the sign-in this browser has under way at the auth host.
export async function requestAuthorization({ ctx, loaded, cookies }: RequestAuthorizationOptions): Promise<TAuthorizationOutcome> {
  const { signIn, tenant, provider } = loaded;
  const options = await buildAuthOptions({ ctx, tenantId: tenant.id, provider, cookies });
  const csrf = await runNextAuth({ ctx, options, action: 'csrf' });
  // A fresh CSRF cookie means the browser kept none from the step before: it refuses cookies.
  if (csrf.headers.getSetCookie().some((c) => /csrf-token=/.test(c))) return { kind: 'failed', reason: 'no_cookies' };
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  // The address the message went to helps the reader pick the right account; after a refusal,
  // the provider is asked to let them choose another. An admin's sign-in has no address to hint
  // at; a re-verification asks the provider to sign the admin in afresh (switch_account).
  const query: Record<string, string> = signIn.switch_account
    ? { prompt: provider.kind === 'oidc' ? 'login' : 'select_account' }
    : signIn.link_token
      ? {
          login_hint: (await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: signIn.link_token })).address,
        }
      : {};
  const started = await runNextAuth({
    ctx,
    options,
    action: 'signin',
    providerId: provider.id,
    form: { csrfToken, callbackUrl: authOrigin(ctx.config) },
    query,
  });
  const location = started.headers.get('location');
  // next-auth sends its own failures (CSRF, an unreachable provider) back to the auth host.
  if (!location || location.startsWith(authOrigin(ctx.config))) return { kind: 'failed', reason: 'authorization_request' };
  return { kind: 'redirect', location, answered: started };
}
