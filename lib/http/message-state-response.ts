import 'server-only';
import { isAppError } from '../errors';
import { openForRequest } from '../portal/request-session';
import type { TPortalState } from '../portal/ui/state-page';
import type { TContext } from '../server/context';
import { getMessage } from '../store/messages';
import type { TTenant } from '../tenants/tenants';
import { getBranding } from '../templates/get-branding';
import { seeOther } from './see-other';
import { statePageResponse } from './state-page-response';

export type MessageStateResponseOptions = { request: Request; ctx: TContext; tenant: TTenant; messageId: string };

// GET /m/<id>/gone – why a signed-in reader's message no longer opens, with its status: 410 once
// revoked or expired, or when the copy posted from message.html is no longer held; 400 damaged.
// It opens the message again rather than trust how it got here; one that opens goes back.
export async function messageStateResponse({ request, ctx, tenant, messageId }: MessageStateResponseOptions): Promise<Response> {
  let state: TPortalState;
  try {
    await openForRequest({ ctx, tenant, messageId });
    return seeOther(`/m/${messageId}`);
  } catch (error) {
    // No session, or someone else's message: the route's own refusal (portalGet), not a state.
    if (!isAppError(error) || error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN') throw error;
    state =
      error.code === 'ENVELOPE_REVOKED'
        ? 'revoked'
        : error.code === 'ENVELOPE_EXPIRED'
          ? 'expired'
          : error.details?.notHeld
            ? 'reopen'
            : 'invalid';
  }
  const message = await getMessage(ctx.db, messageId);
  // Past the session checks: the reader may see the message's own template.
  const branding = await getBranding(ctx.db, tenant.id, message?.template);
  return statePageResponse({ request, branding, tenantName: tenant.name, state, sender: message?.sender ?? '' });
}
