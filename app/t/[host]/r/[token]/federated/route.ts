import { authOrigin } from '@/lib/auth/federated/auth-host';
import { setBindingCookie, TENANT_BINDING } from '@/lib/auth/federated/binding-cookies';
import { startFederatedSignIn } from '@/lib/auth/federated/federated-signin';
import { formErrorResponse, seeOther } from '@/lib/portal/form-responses';
import { clientIp } from '@/lib/http/client-address';
import { readLinkFormPost } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /r/<token>/federated – the reader chose "Sign in with …": on to the auth host
export async function POST(request: Request, { params }: { params: Promise<{ host: string; token: string }> }) {
  const { host, token } = await params;
  try {
    const { ctx, tenant, form } = await readLinkFormPost({ request, host, token });
    const started = await startFederatedSignIn({
      ctx, tenant, linkToken: token, providerId: String(form.get('provider') ?? '').slice(0, 80),
      isKept: form.get('keep') === '1', isSwitchingAccount: form.get('switch') === '1', ip: clientIp(request.headers),
    });
    const response = seeOther(`${authOrigin(ctx.config)}/federated/${started.id}`);
    setBindingCookie({ response, config: ctx.config, name: TENANT_BINDING, value: started.cookieValue });
    return response;
  } catch (error) {
    return formErrorResponse({ error, request, host, backTo: `/r/${token}`, what: 'federated' });
  }
}
