import { NextResponse } from 'next/server';
import { loadAtAuthHost } from '@/lib/auth/federated/federated-signin';
import { requestAuthorization } from '@/lib/auth/federated/request-authorization';
import { AppError } from '@/lib/errors';
import { authHost } from '@/lib/http/auth-host-route';
import { backToMessage, withCookiesOf } from '@/lib/http/auth-host-responses';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /federated/<id>/go on the auth host – next-auth's authorization request (state, PKCE, nonce
// in its cookies), answered as a redirect to the provider.
export const GET = authHost<{ id: string }>(async ({ params: { id }, ctx, authBinding, cookies }) => {
  const loaded = await loadAtAuthHost({ ctx, cookieValue: authBinding });
  if (loaded.signIn.id !== id) throw new AppError('UNAUTHORIZED', 'This sign-in is not the one under way.');
  const outcome = await requestAuthorization({ ctx, loaded, cookies });
  if (outcome.kind === 'failed') return backToMessage({ ctx, loaded, reason: outcome.reason });
  return withCookiesOf(NextResponse.redirect(outcome.location, 303), outcome.answered);
});
