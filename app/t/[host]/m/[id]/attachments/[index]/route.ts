import { attachmentResponse } from '@/lib/http/attachment-response';
import { portalGet } from '@/lib/http/portal-get';
import { downloadAttachment } from '@/lib/portal/download-attachment';
import { sessionCookieValue } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// GET /m/<id>/attachments/<index> – one attachment, always as a download, streamed as it is decoded
export const GET = portalGet<{ host: string; id: string; index: string }>(
  async ({ params: { id, index }, ctx, tenant }) =>
    attachmentResponse(await downloadAttachment({ ctx, tenant, messageId: id, index, sessionValue: await sessionCookieValue(ctx) })),
  { isDownload: true },
);
