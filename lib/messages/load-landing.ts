import { isMessageOpenable } from '../envelope/is-message-openable';
import { readRecipientToken } from '../envelope/recipient-token';
import { isAppError } from '../errors';
import type { TContext } from '../server/context';
import { getMessage, listRecipients } from '../store/messages';
import type { TTenant } from '../tenants/tenants';

export type TLanding =
  | { state: 'ready'; messageId: string; address: string; sender: string; expiresAt: number | null; template: string }
  | { state: 'revoked'; sender: string; template: string }
  | { state: 'expired'; sender: string; expiredAt: number | null; template: string }
  | { state: 'invalid' };

export type LoadLandingOptions = { ctx: TContext; tenant: TTenant; token: string; now?: number };

// What a link shows before anyone signs in. Reading it changes nothing: scanners and link
// previews open links too.
export async function loadLanding({ ctx, tenant, token, now = Date.now() }: LoadLandingOptions): Promise<TLanding> {
  try {
    const claims = await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token });
    const message = await getMessage(ctx.db, claims.messageId);
    if (!message || message.tenant_id !== tenant.id) return { state: 'invalid' };
    const isRecipient = (await listRecipients(ctx.db, message.id)).some((r) => r.id === claims.recipientId && r.address === claims.address);
    if (!isRecipient) return { state: 'invalid' };
    const openState = isMessageOpenable({ message, now });
    if (openState === 'revoked') return { state: 'revoked', sender: message.sender, template: message.template };
    if (openState === 'expired')
      return { state: 'expired', sender: message.sender, expiredAt: message.expires_at, template: message.template };
    return {
      state: 'ready',
      messageId: message.id,
      address: claims.address,
      sender: message.sender,
      expiresAt: message.expires_at,
      template: message.template,
    };
  } catch (error) {
    if (isAppError(error)) return { state: 'invalid' };
    throw error;
  }
}
