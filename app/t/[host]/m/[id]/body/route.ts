import { messageBodyResponse } from '@/lib/http/message-body-response';
import { portalGet } from '@/lib/http/portal-get';
import { readMessageBody } from '@/lib/portal/read-message-body';

export const runtime = 'nodejs';

// GET /m/<id>/body – the message's sanitised HTML body, for the sandboxed frame of its page
// (watermarked for its reader when the message is Do Not Forward)
export const GET = portalGet<{ host: string; id: string }>(async ({ request, params: { id }, ctx, tenant }) => {
  const allowRemoteImages = request.nextUrl.searchParams.get('images') === '1';
  const { html, restriction } = await readMessageBody({ ctx, tenant, messageId: id, allowRemoteImages });
  return messageBodyResponse({ html, allowRemoteImages, restriction });
});
