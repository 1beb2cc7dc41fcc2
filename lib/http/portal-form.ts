import 'server-only';
import type { NextRequest } from 'next/server';
import type { TContext } from '../server/context';
import { assertSameOrigin } from '../portal/request-guards';
import { resolveRouteTenant } from '../tenants/resolve-route-tenant';
import type { TTenant } from '../tenants/tenants';
import { formErrorResponse } from './form-error-response';
import { handleRoute, type TRouteHandler } from './route-handler';

export type TPortalFormContext<P> = { request: NextRequest; params: P; ctx: TContext; tenant: TTenant };

export type PortalFormOptions<P> = {
  // The form's own page, where a reader's mistake is shown (none: a plain refusal).
  backTo?: (params: P) => string;
  // What the form does, for the log line of an unknown error.
  what: string;
};

// Every form post on a tenant host (a link's passcode, sign-in and federated start; reply,
// forward, copy; sign-out): from a page of this very origin, on a tenant's host, and every
// refusal answered by formErrorResponse.
export function portalForm<P extends { host: string }>(
  handler: (context: TPortalFormContext<P>) => Promise<Response>,
  { backTo, what }: PortalFormOptions<P>,
): TRouteHandler<P> {
  return handleRoute<P>({
    run: async (request, params) => {
      assertSameOrigin(request);
      const { ctx, tenant } = await resolveRouteTenant({ host: params.host });
      return handler({ request, params, ctx, tenant });
    },
    onError: (error, request, params) => formErrorResponse({ error, request, host: params.host, backTo: backTo?.(params), what }),
  });
}
