import 'server-only';
import type { NextRequest } from 'next/server';
import { isAppError } from '../errors';
import type { TContext } from '../server/context';
import { resolveRequestTenant } from '../tenants/resolve-request-tenant';
import type { TTenant } from '../tenants/tenants';
import { toErrorText } from './error-response';
import { handleRoute, type TRouteHandler } from './route-handler';
import { LARGE_UPLOAD_RETRY_SECONDS } from './upload-slots';
import { unproxiedResponse } from './unproxied-response';

export type TUnproxiedPostContext = { request: NextRequest; ctx: TContext; tenant: TTenant };

export type UnproxiedPostOptions = { route: string };

// A post the proxy never sees (POST /open): the tenant by the Host header, and every answer,
// refusals included, with the security headers the proxy would have set. A busy server says when
// to come back.
export function unproxiedPost(
  handler: (context: TUnproxiedPostContext) => Promise<Response>,
  { route }: UnproxiedPostOptions,
): TRouteHandler<Record<string, never>> {
  return handleRoute({
    run: async (request) => {
      const { ctx, tenant } = await resolveRequestTenant({ request });
      return handler({ request, ctx, tenant });
    },
    onError: (error) => {
      const { status, text } = toErrorText(error, { route });
      const retry = isAppError(error) && error.code === 'SERVER_BUSY' ? { 'Retry-After': String(LARGE_UPLOAD_RETRY_SECONDS) } : undefined;
      return unproxiedResponse({ status, text, headers: retry });
    },
  });
}
