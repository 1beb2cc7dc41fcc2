import { NextResponse } from 'next/server';
import { isAppError, logUnknownError, type TErrorCode } from '../errors';
import { getBranding } from '../templates/get-branding';
import { resolveRouteTenant } from '../tenants/resolve-route-tenant';
import { statePageResponse, type TPortalState } from './state-page';

// A form post answered the no-JavaScript way: 303 to the page that shows the outcome.
export const seeOther = (location: string) => new NextResponse(null, { status: 303, headers: { Location: location } });

// Waits are pages of their own, with 429 and Retry-After ("Try again" leads back to the form), and
// so is the hard stop on guessing (403: only the sender can lift it).
const STATE_PAGES: Partial<Record<TErrorCode, TPortalState>> = { RATE_LIMITED: 'rateLimited', LOCKED_OUT: 'lockedOut', SIGNIN_BLOCKED: 'blocked' };

export type FormErrorResponseOptions = { error: unknown; request: Request; host: string; backTo: string; what: string };

// The one mapping for the portal's form posts: unknown tenant 404, refused origin or session
// 401/403, a form past the small limit 413, rate limits and lock-outs their 429 page, anything
// the reader can fix back to the form with its error code, the rest an opaque 500.
export async function formErrorResponse({ error, request, host, backTo, what }: FormErrorResponseOptions): Promise<Response> {
  if (isAppError(error)) {
    if (error.code === 'NOT_FOUND') return new NextResponse('Not found', { status: 404 });
    // No form of ours comes near the small limit: a plain 413, nothing to go back to.
    if (error.code === 'FORBIDDEN' || error.code === 'UNAUTHORIZED' || error.code === 'FORM_TOO_LARGE') return new NextResponse(error.message, { status: error.status });
    const state = STATE_PAGES[error.code];
    if (state) {
      const { ctx, tenant } = await resolveRouteTenant({ host });
      const retryAfterSeconds = Number(error.details?.retryAfterSeconds) || undefined;
      return statePageResponse({ request, branding: await getBranding(ctx.db, tenant.id), tenantName: tenant.name, state, retryAfterSeconds, backTo: state === 'rateLimited' ? backTo : undefined });
    }
    return seeOther(`${backTo}${backTo.includes('?') ? '&' : '?'}error=${error.code}`);
  }
  const errorId = logUnknownError(error, { route: `${request.method} ${new URL(request.url).pathname.replace(/\/(r|m)\/[^/]+/g, '/$1/[id]')}`, what });
  return new NextResponse(`Internal error (reference ${errorId})`, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
