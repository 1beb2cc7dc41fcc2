import { authOrigin } from '@/lib/auth/federated/auth-host';
import { TENANT_BINDING } from '@/lib/auth/federated/binding-cookies';
import { startFederatedSignIn } from '@/lib/auth/federated/federated-signin';
import { clientIp } from '@/lib/http/client-address';
import { portalForm } from '@/lib/http/portal-form';
import { seeOther } from '@/lib/http/see-other';
import { setBindingCookie } from '@/lib/http/set-cookies';
import { readLinkForm } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /r/<token>/federated – the reader chose "Sign in with …": on to the auth host
export const POST = portalForm<{ host: string; token: string }>(
  async ({ request, params: { token }, ctx, tenant }) => {
    const { form } = await readLinkForm({ ctx, tenant, request, token });
    const started = await startFederatedSignIn({
      ctx,
      tenant,
      linkToken: token,
      providerId: String(form.get('provider') ?? '').slice(0, 80),
      isKept: form.get('keep') === '1',
      isSwitchingAccount: form.get('switch') === '1',
      ip: clientIp(request.headers),
    });
    const response = seeOther(`${authOrigin(ctx.config)}/federated/${started.id}`);
    setBindingCookie({ response, config: ctx.config, name: TENANT_BINDING, value: started.cookieValue });
    return response;
  },
  { backTo: ({ token }) => `/r/${token}`, what: 'federated' },
);
