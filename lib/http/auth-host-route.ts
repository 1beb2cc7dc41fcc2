import 'server-only';
import { cookies } from 'next/headers';
import { NextResponse, type NextRequest } from 'next/server';
import { isAuthHost } from '../auth/federated/auth-host';
import { AUTH_BINDING, bindingCookieName } from '../auth/federated/binding-cookies';
import { ZBranding } from '../templates/schema';
import { isAppError } from '../errors';
import { getContext, type TContext } from '../server/context';
import { routeOf, toTextErrorResponse } from './error-response';
import { handleRoute, type TRouteHandler } from './route-handler';
import { setBindingCookie } from './set-cookies';
import { statePageResponse } from './state-page-response';

export type TAuthHostContext<P> = {
  request: NextRequest;
  params: P;
  ctx: TContext;
  // The sign-in this browser has under way here (its binding cookie on the auth host).
  authBinding: string | undefined;
  // The request's cookies, for next-auth (its CSRF token, state, PKCE verifier, nonce).
  cookies: Record<string, string>;
};

// No sign-in this browser can continue: expired, already used, or begun elsewhere.
async function unusableResponse(request: Request, ctx: TContext): Promise<NextResponse> {
  const response = await statePageResponse({ request, branding: ZBranding.parse({}), tenantName: 'Sealpost', state: 'signInUnusable' });
  setBindingCookie({ response, config: ctx.config, name: AUTH_BINDING, value: null });
  return response;
}

// Every route of the auth host (/federated/*, /api/auth/*): on the auth host only (a plain 404
// elsewhere); a sign-in this browser cannot continue (expired, taken, begun elsewhere) gets the
// page that says so.
export function authHost<P = Record<string, never>>(handler: (context: TAuthHostContext<P>) => Promise<Response>): TRouteHandler<P> {
  return handleRoute<P>({
    run: async (request, params) => {
      const ctx = await getContext();
      if (!isAuthHost(ctx.config, request.headers.get('host'))) return new NextResponse('Not found', { status: 404 });
      const authBinding = (await cookies()).get(bindingCookieName(ctx.config, AUTH_BINDING))?.value;
      const requestCookies = Object.fromEntries(request.cookies.getAll().map((c) => [c.name, c.value]));
      return handler({ request, params, ctx, authBinding, cookies: requestCookies });
    },
    onError: async (error, request) =>
      isAppError(error) ? unusableResponse(request, await getContext()) : toTextErrorResponse(error, { route: routeOf(request) }),
  });
}
