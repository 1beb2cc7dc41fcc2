import { messageBodyResponse } from '@/lib/http/message-body-response';
import { portalGet } from '@/lib/http/portal-get';
import { readReaderView } from '@/lib/portal/read-reader-view';
import { sessionCookieValue } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// GET /m/<id>/body – the message's sanitised HTML body, for the sandboxed frame of its page
export const GET = portalGet<{ host: string; id: string }>(async ({ request, params: { id }, ctx, tenant }) => {
  const allowRemoteImages = request.nextUrl.searchParams.get('images') === '1';
  const { view } = await readReaderView({ ctx, tenant, messageId: id, sessionValue: await sessionCookieValue(ctx), allowRemoteImages });
  return messageBodyResponse({ html: view.html ?? '', allowRemoteImages });
});
