import 'server-only';
import type { ReactNode } from 'react';
import type { NextRequest } from 'next/server';
import { negotiateLocale, portalText } from '../i18n/portal-i18n';
import { AccessView } from '../portal/ui/access-page';
import { portalDocument } from '../portal/ui/portal-document';
import { getContext, type TContext } from '../server/context';
import { getTenantByHost } from '../tenants/get-tenant-by-host';
import type { TTenant } from '../tenants/tenants';
import { routeOf, toTextErrorResponse } from './error-response';
import { layoutStylesheets } from './layout-stylesheets';
import { handleRoute, type TRouteHandler } from './route-handler';

export type TPortalPageContext<P> = {
  request: NextRequest;
  params: P;
  ctx: TContext;
  tenant: TTenant;
  // The portal's text in the reader's language (Accept-Language).
  text: ReturnType<typeof portalText>;
  // The answer: a whole document around `children`, with its status.
  page: (status: number, children: ReactNode) => Promise<Response>;
};

// Every page that a route handler renders whole on a tenant host, rather than the App Router (the
// message page: lib/http/message-page-response.tsx says why): the root layout's document around
// it, in the reader's language, with the build's stylesheet, never cached. An unknown host gets
// the plain 404 page (which tenants exist is nobody's business); anything the handler throws is
// answered by the text mapping.
export function portalPage<P extends { host: string }>(handler: (context: TPortalPageContext<P>) => Promise<Response>): TRouteHandler<P> {
  return handleRoute<P>({
    run: async (request, params) => {
      const text = portalText(negotiateLocale(request.headers.get('accept-language')));
      const page = async (status: number, children: ReactNode) =>
        new Response(await portalDocument({ locale: text.locale, stylesheets: layoutStylesheets(), children }), {
          status,
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'private, no-cache, no-store, max-age=0, must-revalidate',
          },
        });
      const ctx = await getContext();
      const tenant = await getTenantByHost({ db: ctx.db, config: ctx.config, host: decodeURIComponent(params.host) });
      if (!tenant) return page(404, <AccessView kind="notFound" t={text.t} />);
      return handler({ request, params, ctx, tenant, text, page });
    },
    onError: (error, request) => toTextErrorResponse(error, { route: routeOf(request) }),
  });
}
