import { AUTH_BINDING } from '@/lib/auth/federated/binding-cookies';
import { claimAtAuthHost } from '@/lib/auth/federated/federated-signin';
import { buildAuthOptions, runNextAuth } from '@/lib/auth/federated/next-auth';
import { authHost } from '@/lib/http/auth-host-route';
import { withCookiesOf } from '@/lib/http/auth-host-responses';
import { setBindingCookie } from '@/lib/http/set-cookies';
import { statePageResponse } from '@/lib/http/state-page-response';
import { messageTemplate } from '@/lib/store/messages';
import { getBranding } from '@/lib/templates/get-branding';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /federated/<id> on the auth host – the first step: this browser takes the sign-in over, and
// a page moves on to the provider by itself. (A page, not a redirect: the reader arrived from a
// form, and a form's redirects may only go where the page's form-action allows.)
export const GET = authHost<{ id: string }>(async ({ request, params: { id }, ctx, cookies }) => {
  const claimed = await claimAtAuthHost({ ctx, id });
  const csrf = await runNextAuth({
    ctx,
    options: await buildAuthOptions({ ctx, tenantId: claimed.tenant.id, provider: claimed.provider, cookies }),
    action: 'csrf',
  });
  const next = `/federated/${id}/go`;
  const response = await statePageResponse({
    request,
    branding: await getBranding(ctx.db, claimed.tenant.id, await messageTemplate(ctx.db, claimed.signIn.message_id)),
    tenantName: claimed.tenant.name,
    state: 'toProvider',
    values: { provider: claimed.provider.label },
    refreshTo: next,
    continueTo: next,
  });
  setBindingCookie({ response, config: ctx.config, name: AUTH_BINDING, value: claimed.cookieValue });
  return withCookiesOf(response, csrf);
});
