import 'server-only';
import type { NextRequest } from 'next/server';
import type { TContext } from '../server/context';
import { resolveRouteTenant } from '../tenants/resolve-route-tenant';
import type { TTenant } from '../tenants/tenants';
import { routeOf, toErrorResponse, toTextErrorResponse } from './error-response';
import { handleRoute, type TRouteHandler } from './route-handler';

export type TPortalGetContext<P> = { request: NextRequest; params: P; ctx: TContext; tenant: TTenant };

export type PortalGetOptions = {
  // Downloads answer their refusals as JSON, as the API does; pages as plain text.
  isDownload?: boolean;
};

// Every GET a route handler answers on a tenant host (the gone pages, the end of a federated
// sign-in, attachments): on a tenant's host, and every refusal answered by the one mapping.
export function portalGet<P extends { host: string }>(
  handler: (context: TPortalGetContext<P>) => Promise<Response>,
  { isDownload = false }: PortalGetOptions = {},
): TRouteHandler<P> {
  return handleRoute<P>({
    run: async (request, params) => {
      const { ctx, tenant } = await resolveRouteTenant({ host: params.host });
      return handler({ request, params, ctx, tenant });
    },
    onError: (error, request) =>
      isDownload ? toErrorResponse(error, { route: routeOf(request) }) : toTextErrorResponse(error, { route: routeOf(request) }),
  });
}
