import { startAdminOidcSignIn } from '@/lib/admin/start-admin-oidc-signin';
import { authOrigin } from '@/lib/auth/federated/auth-host';
import { TENANT_BINDING } from '@/lib/auth/federated/binding-cookies';
import { safeAdminNext } from '@/lib/http/admin-responses';
import { adminRoute } from '@/lib/http/admin-route';
import { clientIp } from '@/lib/http/client-address';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';
import { setBindingCookie } from '@/lib/http/set-cookies';

export const runtime = 'nodejs';

// POST /admin/oidc – "Sign in with <provider>" (or confirm with it): on to the auth host
export const POST = adminRoute<{ host: string }, { role: 'public' }>(
  async ({ request, params, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    const started = await startAdminOidcSignIn({
      ctx,
      tenant,
      providerId: String(form.get('provider') ?? '').slice(0, 80),
      host: params.host,
      next: safeAdminNext(form.get('next')),
      session,
      isReverify: form.get('reverify') === '1',
      ip: clientIp(request.headers),
    });
    const response = seeOther(`${authOrigin(ctx.config)}/federated/${started.id}`);
    setBindingCookie({ response, config: ctx.config, name: TENANT_BINDING, value: started.cookieValue });
    return response;
  },
  { access: { role: 'public' }, backTo: () => '/admin', what: 'admin oidc sign-in' },
);
