import { NextResponse } from 'next/server';
import { authOrigin } from '@/lib/auth/federated/auth-host';
import { AUTH_BINDING } from '@/lib/auth/federated/binding-cookies';
import { loadAtAuthHost } from '@/lib/auth/federated/federated-signin';
import { takeProviderCallback } from '@/lib/auth/federated/take-provider-callback';
import { authHost } from '@/lib/http/auth-host-route';
import { backToMessage, withCookiesOf } from '@/lib/http/auth-host-responses';
import { setBindingCookie } from '@/lib/http/set-cookies';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/auth/callback/<provider> on the auth host – the one redirect URI of each provider, for
// every tenant. The sign-in is the one this browser started (its cookie there).
export const GET = authHost<{ nextauth: string[] }>(async ({ request, params, ctx, authBinding, cookies }) => {
  const [action, providerId, ...rest] = params.nextauth;
  // next-auth's own error and sign-in pages are never shown: its redirects there end the sign-in.
  if ((action === 'error' || action === 'signin') && !providerId)
    return NextResponse.redirect(`${authOrigin(ctx.config)}/federated/error`, 303);
  if (action !== 'callback' || !providerId || rest.length > 0) return new NextResponse('Not found', { status: 404 });
  const loaded = await loadAtAuthHost({ ctx, cookieValue: authBinding });
  const outcome = await takeProviderCallback({ ctx, request, providerId, loaded, cookies });
  if (outcome.kind === 'handoff') {
    const response = NextResponse.redirect(outcome.location, 303);
    setBindingCookie({ response, config: ctx.config, name: AUTH_BINDING, value: null });
    return withCookiesOf(response, outcome.answered);
  }
  const back = await backToMessage({ ctx, loaded, reason: outcome.reason });
  return outcome.answered ? withCookiesOf(back, outcome.answered) : back;
});
