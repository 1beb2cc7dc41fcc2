import { cookies } from 'next/headers';
import { completeAdminOidcSignIn } from '@/lib/admin/complete-admin-oidc-signin';
import { bindingCookieName, TENANT_BINDING } from '@/lib/auth/federated/binding-cookies';
import { adminContinuePage, signedInAfterProvider } from '@/lib/http/admin-responses';
import { adminRoute } from '@/lib/http/admin-route';
import { seeOther } from '@/lib/http/see-other';
import { setBindingCookie } from '@/lib/http/set-cookies';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /admin/oidc/complete?id=…&h=… – the auth host's single-use hand-off for an admin's sign-in
// through the tenant's provider: a console session, or the sign-in page saying why not
export const GET = adminRoute<{ host: string }, { role: 'public' }>(
  async ({ request, ctx, tenant }) => {
    const query = new URL(request.url).searchParams;
    const outcome = await completeAdminOidcSignIn({
      ctx,
      tenant,
      id: query.get('id') ?? '',
      handoff: query.get('h') ?? '',
      cookieValue: (await cookies()).get(bindingCookieName(ctx.config, TENANT_BINDING))?.value,
    });
    const response =
      outcome.kind === 'session'
        ? signedInAfterProvider({ config: ctx.config, cookie: outcome.cookie, page: adminContinuePage(outcome.next) })
        : seeOther(`/admin?refused=${outcome.reason}`);
    setBindingCookie({ response, config: ctx.config, name: TENANT_BINDING, value: null });
    return response;
  },
  { access: { role: 'public' }, what: 'admin oidc sign-in complete' },
);
