import 'server-only';
import { unstable_rethrow } from 'next/navigation';
import type { NextRequest } from 'next/server';

// A route handler as Next.js calls it: `params` is absent on a route without dynamic segments.
export type TRouteHandler<P> = (request: NextRequest, context: { params: Promise<P> }) => Promise<Response>;

export type HandleRouteOptions<P> = {
  run: (request: NextRequest, params: P) => Promise<Response>;
  onError: (error: unknown, request: NextRequest, params: P) => Response | Promise<Response>;
};

// What every kind of route shares (portalForm, portalGet, authHost, apiRoute, …): the parameters
// awaited once, the handler run, and anything it throws answered by the kind's one mapping.
// Next.js's own signals (notFound(), redirect()) are not errors: they pass through.
export function handleRoute<P>({ run, onError }: HandleRouteOptions<P>): TRouteHandler<P> {
  return async (request, context) => {
    const params = ((await context?.params) ?? {}) as P;
    try {
      return await run(request, params);
    } catch (error) {
      unstable_rethrow(error);
      return onError(error, request, params);
    }
  };
}
