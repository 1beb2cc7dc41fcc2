import { cookies } from 'next/headers';
import { bindingCookieName, TENANT_BINDING } from '@/lib/auth/federated/binding-cookies';
import { completeFederatedSignIn } from '@/lib/auth/federated/complete-federated-signin';
import { portalGet } from '@/lib/http/portal-get';
import { seeOther } from '@/lib/http/see-other';
import { setBindingCookie, setSessionCookie } from '@/lib/http/set-cookies';
import { statePageResponse } from '@/lib/http/state-page-response';
import { getBranding } from '@/lib/templates/get-branding';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /federated/complete?id=…&h=… – take the auth host's single-use hand-off, start the reader's
// session, or say why not; the tenant host's binding cookie goes once the hand-off is taken.
export const GET = portalGet<{ host: string }>(async ({ request, ctx, tenant }) => {
  const query = new URL(request.url).searchParams;
  const outcome = await completeFederatedSignIn({
    ctx,
    tenant,
    id: query.get('id') ?? '',
    handoff: query.get('h') ?? '',
    cookieValue: (await cookies()).get(bindingCookieName(ctx.config, TENANT_BINDING))?.value,
  });
  if (outcome.kind === 'unusable')
    return statePageResponse({ request, branding: await getBranding(ctx.db, tenant.id), tenantName: tenant.name, state: 'signInUnusable' });
  const response =
    outcome.kind === 'gone'
      ? seeOther(`/r/${outcome.linkToken}/gone`)
      : outcome.kind === 'session'
        ? seeOther(`/m/${outcome.messageId}`)
        : await statePageResponse({
            request,
            branding: await getBranding(ctx.db, tenant.id, outcome.template),
            tenantName: tenant.name,
            state: outcome.reason,
            values: { address: outcome.address, provider: outcome.provider?.label ?? '' },
            switchAccount: outcome.provider
              ? { action: `/r/${outcome.linkToken}/federated`, provider: outcome.provider.id, isKept: outcome.isKept }
              : undefined,
            otherWaysTo: `/r/${outcome.linkToken}`,
          });
  if (outcome.kind === 'session') setSessionCookie({ response, config: ctx.config, cookie: outcome.cookie });
  setBindingCookie({ response, config: ctx.config, name: TENANT_BINDING, value: null });
  return response;
});
