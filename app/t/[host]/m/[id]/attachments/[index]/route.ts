import { simpleParser } from 'mailparser';
import { recordAudit } from '@/lib/audit/record-audit';
import { AppError } from '@/lib/errors';
import { attachmentResponse } from '@/lib/http/attachment-response';
import { portalGet } from '@/lib/http/portal-get';
import { safeContentType, safeFilename } from '@/lib/messages/to-message-view';
import { openForRequest } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// GET /m/<id>/attachments/<index> – one attachment, always as a download
export const GET = portalGet<{ host: string; id: string; index: string }>(
  async ({ params: { id, index }, ctx, tenant }) => {
    const opened = await openForRequest({ ctx, tenant, messageId: id });
    const parsed = await simpleParser(Buffer.from(opened.mime), { skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true });
    const i = /^\d{1,4}$/.test(index) ? Number(index) : -1;
    const attachment = parsed.attachments[i];
    if (!attachment) throw new AppError('NOT_FOUND', 'No such attachment');
    const filename = safeFilename(attachment.filename, i, attachment.contentType);
    await recordAudit(ctx.db, {
      tenantId: tenant.id,
      messageId: id,
      type: 'downloaded',
      actor: opened.session.address,
      data: { index: i },
    });
    return attachmentResponse({ filename, contentType: safeContentType(attachment.contentType), content: attachment.content });
  },
  { isDownload: true },
);
