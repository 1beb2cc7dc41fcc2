import 'server-only';
import { NextResponse } from 'next/server';
import { AUTH_BINDING } from '../auth/federated/binding-cookies';
import { failFederatedSignIn, type TAuthHostSignIn } from '../auth/federated/federated-signin';
import { logger } from '../logger';
import type { TContext } from '../server/context';
import { portalOrigin } from '../tenants/tenants';
import { setBindingCookie } from './set-cookies';

// Cookies next-auth set (its CSRF token, state, PKCE verifier, nonce), carried onto our response.
// Last: NextResponse's cookies API rewrites the Set-Cookie headers it did not set itself.
export function withCookiesOf(response: NextResponse, from: Response): NextResponse {
  for (const cookie of from.headers.getSetCookie()) response.headers.append('set-cookie', cookie);
  return response;
}

export type BackToMessageOptions = { ctx: TContext; loaded: TAuthHostSignIn; reason: string };

// The sign-in failed at the provider or on the way back: over, and back to the message's page
// (or the console's sign-in page).
export async function backToMessage({ ctx, loaded, reason }: BackToMessageOptions): Promise<NextResponse> {
  await failFederatedSignIn({ ctx, signIn: loaded.signIn, reason });
  logger.warn({ provider: loaded.provider.id, tenant: loaded.tenant.slug, reason }, 'federated sign-in failed');
  // An admin's sign-in goes back to the console's sign-in page.
  const back = loaded.signIn.link_token ? `/r/${loaded.signIn.link_token}` : '/admin';
  const response = NextResponse.redirect(`${portalOrigin(ctx.config, loaded.tenant)}${back}?error=FEDERATED_FAILED`, 303);
  setBindingCookie({ response, config: ctx.config, name: AUTH_BINDING, value: null });
  return response;
}
