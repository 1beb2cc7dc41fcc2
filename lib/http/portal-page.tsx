import 'server-only';
import type { ReactNode } from 'react';
import type { NextRequest } from 'next/server';
import { isAppError } from '../errors';
import { negotiateLocale, portalText } from '../i18n/portal-i18n';
import { AccessView, type TAccessKind } from '../portal/ui/access-page';
import { portalDocument } from '../portal/ui/portal-document';
import type { TContext } from '../server/context';
import { getBranding } from '../templates/get-branding';
import { resolveRouteTenant } from '../tenants/resolve-route-tenant';
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

// The refusals a page answers with a page of their own, as loadForPage maps them for the App Router.
const ACCESS: Partial<Record<string, { status: number; kind: TAccessKind }>> = {
  NOT_FOUND: { status: 404, kind: 'notFound' },
  UNAUTHORIZED: { status: 401, kind: 'unauthorized' },
  FORBIDDEN: { status: 403, kind: 'forbidden' },
};
const accessOf = (error: unknown) => (isAppError(error) ? ACCESS[error.code] : undefined);

// Every page that a route handler renders whole on a tenant host, rather than the App Router (the
// message page: lib/http/message-page-response.tsx says why): the root layout's document around
// it, in the reader's language, with the build's stylesheet, never cached. An unknown host gets
// the plain 404 page (which tenants exist is nobody's business); the handler's 404, 401 and 403
// (AppErrors) get theirs in the tenant's branding, drawn on the server so they read without
// JavaScript; anything else it throws is answered by the text mapping.
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
      let found: Awaited<ReturnType<typeof resolveRouteTenant>>;
      try {
        found = await resolveRouteTenant({ host: params.host });
      } catch (error) {
        if (accessOf(error)?.kind === 'notFound') return page(404, <AccessView kind="notFound" t={text.t} />);
        throw error;
      }
      const { ctx, tenant } = found;
      try {
        return await handler({ request, params, ctx, tenant, text, page });
      } catch (error) {
        const access = accessOf(error);
        if (!access) throw error;
        const branding = await getBranding(ctx.db, tenant.id);
        return page(access.status, <AccessView kind={access.kind} t={text.t} tenant={{ name: tenant.name, branding }} />);
      }
    },
    onError: (error, request) => toTextErrorResponse(error, { route: routeOf(request) }),
  });
}
