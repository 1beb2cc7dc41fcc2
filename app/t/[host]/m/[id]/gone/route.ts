import { messageStateResponse } from '@/lib/http/message-state-response';
import { portalGet } from '@/lib/http/portal-get';

export const runtime = 'nodejs';

// GET /m/<id>/gone – a revoked, expired or no longer held message's page, with its status
export const GET = portalGet<{ host: string; id: string }>(async ({ request, params: { id }, ctx, tenant }) =>
  messageStateResponse({ request, ctx, tenant, messageId: id }),
);
