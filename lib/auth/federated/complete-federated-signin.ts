import { cookies } from 'next/headers';
import { NextResponse } from 'next/server';
import { recordAudit } from '../../audit/record-audit';
import { isAppError } from '../../errors';
import { seeOther } from '../../portal/form-responses';
import { loadLanding } from '../../portal/load-landing';
import { statePageResponse } from '../../portal/state-page';
import { listRecipients } from '../../store/messages';
import { resolveRouteTenant } from '../../tenants/resolve-route-tenant';
import { getBranding } from '../../templates/get-branding';
import { createRecipientSession, setSessionCookie } from '../recipient-session';
import { bindingCookieName, setBindingCookie, TENANT_BINDING } from './binding-cookies';
import { consumeHandoff, type TFederatedSignIn } from './federated-signin';
import { getProvider } from './identity-providers';

export type CompleteFederatedSignInOptions = { request: Request; host: string };

// GET /federated/complete?id=…&h=… on the tenant host – the end of a federated sign-in. The
// hand-off is taken once, in the browser that started it; a proven recipient gets the same
// session a passcode gives and the message; anyone else a page that says why, with a way on.
export async function completeFederatedSignIn({ request, host }: CompleteFederatedSignInOptions): Promise<Response> {
  const { ctx, tenant } = await resolveRouteTenant({ host });
  const params = new URL(request.url).searchParams;
  let signIn: TFederatedSignIn;
  try {
    signIn = await consumeHandoff({
      ctx, tenant, id: params.get('id') ?? '', handoff: params.get('h') ?? '', cookieValue: (await cookies()).get(bindingCookieName(ctx.config, TENANT_BINDING))?.value,
    });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return statePageResponse({ request, branding: await getBranding(ctx.db, tenant.id), tenantName: tenant.name, state: 'signInUnusable' });
  }
  const landing = await loadLanding({ ctx, tenant, token: signIn.link_token });
  const method = signIn.provider;
  const recipient = landing.state === 'ready' && signIn.outcome === 'ok' ? (await listRecipients(ctx.db, signIn.message_id)).find((r) => r.address === signIn.address) : undefined;
  let response: NextResponse;
  if (landing.state !== 'ready') {
    // Revoked or expired while the reader was at the provider: the link's own page says so.
    response = seeOther(`/r/${signIn.link_token}/gone`);
  } else if (recipient) {
    const session = await createRecipientSession({ ctx, tenant, session: { messageId: signIn.message_id, recipientId: recipient.id, address: recipient.address, isKept: signIn.keep === 1 } });
    await recordAudit(ctx.db, { tenantId: tenant.id, messageId: signIn.message_id, type: 'signin_ok', actor: recipient.address, data: { method } });
    response = seeOther(`/m/${signIn.message_id}`);
    setSessionCookie({ response, config: ctx.config, cookie: session });
  } else {
    const outcome = signIn.outcome === 'unverified' ? 'unverified' : 'notRecipient';
    await recordAudit(ctx.db, { tenantId: tenant.id, messageId: signIn.message_id, type: 'signin_failed', data: { method, reason: signIn.outcome ?? 'unknown' } });
    const provider = await getProvider({ ctx, tenantId: tenant.id, providerId: signIn.provider });
    const page = await statePageResponse({
      request, branding: await getBranding(ctx.db, tenant.id, landing.template), tenantName: tenant.name, state: outcome,
      values: { address: signIn.address ?? '', provider: provider?.label ?? '' },
      switchAccount: provider ? { action: `/r/${signIn.link_token}/federated`, provider: provider.id, isKept: signIn.keep === 1 } : undefined,
      otherWaysTo: `/r/${signIn.link_token}`,
    });
    response = new NextResponse(page.body, { status: page.status, headers: page.headers });
  }
  setBindingCookie({ response, config: ctx.config, name: TENANT_BINDING, value: null });
  return response;
}
