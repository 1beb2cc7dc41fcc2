import 'server-only';
import type { TErrorCode } from '../errors';
import { isAppError } from '../errors';
import type { TPortalState } from '../portal/ui/state-page';
import { getBranding } from '../templates/get-branding';
import { resolveRouteTenant } from '../tenants/resolve-route-tenant';
import { routeOf, toTextErrorResponse } from './error-response';
import { seeOther } from './see-other';
import { statePageResponse } from './state-page-response';

// Waits are pages of their own, with 429 and Retry-After ("Try again" leads back to the form), and
// so is the hard stop on guessing (403: only the sender can lift it).
const STATE_PAGES: Partial<Record<TErrorCode, TPortalState>> = {
  RATE_LIMITED: 'rateLimited',
  LOCKED_OUT: 'lockedOut',
  SIGNIN_BLOCKED: 'blocked',
};

// Refusals with nothing to go back to: an unknown tenant, a refused origin or session, and a form
// past the small limit (no form of ours comes near it).
const PLAIN: TErrorCode[] = ['NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED', 'FORM_TOO_LARGE'];

export type FormErrorResponseOptions = { error: unknown; request: Request; host: string; backTo?: string; what: string };

// The one mapping for the portal's form posts: unknown tenant 404, refused origin or session
// 401/403, a form past the small limit 413, rate limits and lock-outs their 429 page, anything
// the reader can fix back to the form with its error code (a form with no page to go back to:
// the plain refusal), the rest an opaque 500.
export async function formErrorResponse({ error, request, host, backTo, what }: FormErrorResponseOptions): Promise<Response> {
  if (isAppError(error) && !PLAIN.includes(error.code)) {
    const state = STATE_PAGES[error.code];
    if (state) {
      const { ctx, tenant } = await resolveRouteTenant({ host });
      const retryAfterSeconds = Number(error.details?.retryAfterSeconds) || undefined;
      return statePageResponse({
        request,
        branding: await getBranding(ctx.db, tenant.id),
        tenantName: tenant.name,
        state,
        retryAfterSeconds,
        backTo: state === 'rateLimited' ? backTo : undefined,
      });
    }
    if (backTo !== undefined) return seeOther(`${backTo}${backTo.includes('?') ? '&' : '?'}error=${error.code}`);
  }
  return toTextErrorResponse(error, { route: routeOf(request), what });
}
