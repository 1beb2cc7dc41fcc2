import { cookies } from 'next/headers';
import { simpleParser } from 'mailparser';
import { recordAudit } from '@/lib/audit/record-audit';
import { sessionCookieName } from '@/lib/auth/recipient-session';
import { AppError, toErrorResponse } from '@/lib/errors';
import { attachmentResponse } from '@/lib/http/attachment-response';
import { safeContentType, safeFilename } from '@/lib/messages/to-message-view';
import { openForReader } from '@/lib/portal/open-for-reader';
import { resolveRouteTenant } from '@/lib/tenants/resolve-route-tenant';

export const runtime = 'nodejs';

// GET /m/<id>/attachments/<index> – one attachment, always as a download
export async function GET(_request: Request, { params }: { params: Promise<{ host: string; id: string; index: string }> }) {
  try {
    const { host, id, index } = await params;
    const { ctx, tenant } = await resolveRouteTenant({ host });
    const opened = await openForReader({ ctx, tenant, messageId: id, sessionValue: (await cookies()).get(sessionCookieName(ctx.config))?.value });
    const parsed = await simpleParser(Buffer.from(opened.mime), { skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true });
    const i = /^\d{1,4}$/.test(index) ? Number(index) : -1;
    const attachment = parsed.attachments[i];
    if (!attachment) throw new AppError('NOT_FOUND', 'No such attachment');
    const filename = safeFilename(attachment.filename, i, attachment.contentType);
    await recordAudit(ctx.db, { tenantId: tenant.id, messageId: id, type: 'downloaded', actor: opened.session.address, data: { index: i } });
    return attachmentResponse({ filename, contentType: safeContentType(attachment.contentType), content: attachment.content });
  } catch (error) {
    return toErrorResponse(error);
  }
}
