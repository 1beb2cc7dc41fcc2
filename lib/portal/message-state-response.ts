import { NextResponse } from 'next/server';
import { isAppError } from '../errors';
import { getMessage } from '../store/messages';
import { getBranding } from '../templates/get-branding';
import { resolveRouteTenant } from '../tenants/resolve-route-tenant';
import { seeOther } from './form-responses';
import { statePageResponse, type TPortalState } from './state-page';
import { openForRequest } from './request-session';

export type MessageStateResponseOptions = { request: Request; host: string; messageId: string };

// GET /m/<id>/gone – why a signed-in reader's message no longer opens, with its status: 410 once
// revoked or expired, or when the copy posted from message.html is no longer held; 400 damaged.
// It opens the message again rather than trust how it got here; one that opens goes back.
export async function messageStateResponse({ request, host, messageId }: MessageStateResponseOptions): Promise<Response> {
  const { ctx, tenant } = await resolveRouteTenant({ host });
  let state: TPortalState;
  try {
    await openForRequest({ ctx, tenant, messageId });
    return seeOther(`/m/${messageId}`);
  } catch (error) {
    if (!isAppError(error)) throw error;
    if (error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN') return new NextResponse(error.message, { status: error.status });
    state = error.code === 'ENVELOPE_REVOKED' ? 'revoked' : error.code === 'ENVELOPE_EXPIRED' ? 'expired' : error.details?.notHeld ? 'reopen' : 'invalid';
  }
  const message = await getMessage(ctx.db, messageId);
  // Past the session checks: the reader may see the message's own template.
  const branding = await getBranding(ctx.db, tenant.id, message?.template);
  return statePageResponse({ request, branding, tenantName: tenant.name, state, sender: message?.sender ?? '' });
}
