import 'server-only';
import { cookies } from 'next/headers';
import type { NextRequest } from 'next/server';
import { adminCookieName, type TAdminSession } from '../admin/admin-session';
import { type TAdminAccess, authorizeAdmin } from '../admin/authorize-admin';
import { isAppError } from '../errors';
import { assertSameOrigin } from '../portal/request-guards';
import type { TContext } from '../server/context';
import { resolveRouteTenant } from '../tenants/resolve-route-tenant';
import type { TTenant } from '../tenants/tenants';
import { routeOf, toErrorResponse, toTextErrorResponse } from './error-response';
import { handleRoute, type TRouteHandler } from './route-handler';
import { seeOther } from './see-other';

export type TAdminRouteContext<P, S> = { request: NextRequest; params: P; ctx: TContext; tenant: TTenant; session: S };

export type AdminRouteOptions<P, A extends TAdminAccess> = {
  access: A;
  // The form's own page, where a refusal the admin can fix is shown (none: a plain refusal).
  backTo?: (params: P) => string;
  // What the route does, for the log line of an unknown error.
  what: string;
};

type TSessionFor<A extends TAdminAccess> = A extends { role: 'public' } ? TAdminSession | null : TAdminSession;

// Every route of the admin console (its posts, and the exports; pages go through loadAdminPage).
// In order: the post comes from a page of this very origin (CSRF), the host is a tenant's, and
// authorizeAdmin lets this session do this; a sensitive action without a passkey check in the
// last 5 minutes goes to the re-verification page and comes back. JSON in (the passkey
// ceremonies), JSON out; a form, the no-JavaScript way (303 to a page, or the plain refusal).
export function adminRoute<P extends { host: string }, A extends TAdminAccess>(
  handler: (context: TAdminRouteContext<P, TSessionFor<A>>) => Promise<Response>,
  { access, backTo, what }: AdminRouteOptions<P, A>,
): TRouteHandler<P> {
  return handleRoute<P>({
    run: async (request, params) => {
      // CSRF: every post from a page of this very origin. A GET (an export) changes nothing.
      if (request.method !== 'GET') assertSameOrigin(request);
      const { ctx, tenant } = await resolveRouteTenant({ host: params.host });
      const cookie = (await cookies()).get(adminCookieName(ctx.config))?.value;
      const outcome = await authorizeAdmin({ ctx, tenant, cookie, access });
      if (outcome.kind === 'reverify')
        return seeOther(`/admin?reverify=1&next=${encodeURIComponent(backTo?.(params) ?? '/admin/messages')}`);
      return handler({ request, params, ctx, tenant, session: outcome.session as TSessionFor<A> });
    },
    onError: (error, request, params) => {
      if (request.headers.get('content-type')?.startsWith('application/json')) return toErrorResponse(error, { route: routeOf(request) });
      const back = backTo?.(params);
      if (back && isAppError(error) && ['BAD_REQUEST', 'CONFLICT', 'UNPROCESSABLE'].includes(error.code)) {
        return seeOther(`${back}${back.includes('?') ? '&' : '?'}error=${error.code}`);
      }
      return toTextErrorResponse(error, { route: routeOf(request), what });
    },
  });
}
