import 'server-only';
import type { NextRequest } from 'next/server';
import { getContext, type TContext } from '../server/context';
import { authenticateApiKey } from '../tenants/api-keys';
import type { TTenant } from '../tenants/tenants';
import { toErrorResponse } from './error-response';
import { handleRoute, type TRouteHandler } from './route-handler';

export type TApiRouteContext<P> = { request: NextRequest; params: P; ctx: TContext; tenant: TTenant };

export type ApiRouteOptions = { route: string };

// Every /api/v1 route: the tenant is the API key's (Authorization: Bearer), and every refusal and
// failure is JSON through toErrorResponse.
export function apiRoute<P = Record<string, never>>(
  handler: (context: TApiRouteContext<P>) => Promise<Response>,
  { route }: ApiRouteOptions,
): TRouteHandler<P> {
  return handleRoute<P>({
    run: async (request, params) => {
      const ctx = await getContext();
      const tenant = await authenticateApiKey({ db: ctx.db, authorization: request.headers.get('authorization') });
      return handler({ request, params, ctx, tenant });
    },
    onError: (error) => toErrorResponse(error, { route }),
  });
}

// A route of the API anyone may call (the health check): no key, the same JSON refusals.
export function publicApiRoute(
  handler: (context: { request: NextRequest }) => Promise<Response>,
  { route }: ApiRouteOptions,
): TRouteHandler<Record<string, never>> {
  return handleRoute({ run: async (request) => handler({ request }), onError: (error) => toErrorResponse(error, { route }) });
}
