import { recordAudit } from '../../audit/record-audit';
import { isAppError } from '../../errors';
import { loadLanding } from '../../messages/load-landing';
import type { TContext } from '../../server/context';
import { listRecipients } from '../../store/messages';
import type { TTenant } from '../../tenants/tenants';
import { createRecipientSession, type TRecipientSessionCookie } from '../recipient-session';
import { consumeHandoff, type TFederatedSignIn } from './federated-signin';
import { getProvider } from './identity-providers';

export type CompleteFederatedSignInOptions = {
  ctx: TContext;
  tenant: TTenant;
  id: string;
  handoff: string;
  cookieValue: string | undefined;
};

export type TFederatedSignInOutcome =
  // The hand-off cannot be taken (expired, used, another browser's): nothing else is known.
  | { kind: 'unusable' }
  // Revoked or expired while the reader was at the provider: the link's own page says so.
  | { kind: 'gone'; linkToken: string }
  | { kind: 'session'; messageId: string; cookie: TRecipientSessionCookie }
  // Proven, but not as a recipient (or not proven): who was seen, and the ways on.
  | {
      kind: 'refused';
      reason: 'unverified' | 'notRecipient';
      address: string;
      provider: { id: string; label: string } | undefined;
      linkToken: string;
      isKept: boolean;
      template: string;
    };

// The end of a federated sign-in on the tenant host. The hand-off is taken once, in the browser
// that started it (cookieValue: its binding cookie there); a proven recipient gets the same session
// a passcode gives; anyone else is told why, with a way on.
export async function completeFederatedSignIn({
  ctx,
  tenant,
  id,
  handoff,
  cookieValue,
}: CompleteFederatedSignInOptions): Promise<TFederatedSignInOutcome> {
  let signIn: TFederatedSignIn;
  try {
    signIn = await consumeHandoff({ ctx, tenant, purpose: 'recipient', id, handoff, cookieValue });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { kind: 'unusable' };
  }
  // A recipient's sign-in always names its message and link (only an admin's has neither).
  const messageId = signIn.message_id!;
  const linkToken = signIn.link_token!;
  const landing = await loadLanding({ ctx, tenant, token: linkToken });
  if (landing.state !== 'ready') return { kind: 'gone', linkToken };
  const method = signIn.provider;
  const recipient =
    signIn.outcome === 'ok' ? (await listRecipients(ctx.db, messageId)).find((r) => r.address === signIn.address) : undefined;
  if (recipient) {
    const cookie = await createRecipientSession({
      ctx,
      tenant,
      session: { messageId, recipientId: recipient.id, address: recipient.address, isKept: signIn.keep === 1 },
    });
    await recordAudit(ctx.db, {
      tenantId: tenant.id,
      messageId,
      type: 'signin_ok',
      actor: recipient.address,
      data: { method },
    });
    return { kind: 'session', messageId, cookie };
  }
  await recordAudit(ctx.db, {
    tenantId: tenant.id,
    messageId,
    type: 'signin_failed',
    data: { method, reason: signIn.outcome ?? 'unknown' },
  });
  const provider = await getProvider({ ctx, tenantId: tenant.id, providerId: signIn.provider });
  return {
    kind: 'refused',
    reason: signIn.outcome === 'unverified' ? 'unverified' : 'notRecipient',
    address: signIn.address ?? '',
    provider: provider ? { id: provider.id, label: provider.label } : undefined,
    linkToken,
    isKept: signIn.keep === 1,
    template: landing.template,
  };
}
