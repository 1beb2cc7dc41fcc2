import { notFound } from 'next/navigation';
import { getConfig } from '@/lib/env';
import { isMailboxAllowed } from '@/lib/mail/mailbox/mailbox-access';
import { AppError, toErrorResponse } from '@/lib/errors';
import { readMailboxMail } from '@/lib/mail/mailbox/read-mailbox-mail';
import { attachmentResponse } from '@/lib/http/attachment-response';
import { safeContentType } from '@/lib/messages/to-message-view';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /mailbox/<id>/attachments/<index> – one attachment of a local mailbox mail, always as a
// download and never as active content on this origin.
export async function GET(request: Request, { params }: { params: Promise<{ id: string; index: string }> }) {
  const config = getConfig();
  if (!isMailboxAllowed({ config, headers: request.headers })) notFound();
  try {
    const { id, index } = await params;
    const mail = await readMailboxMail({ dataDir: config.dataDir, id });
    const attachment = /^\d{1,4}$/.test(index) ? mail.attachments[Number(index)] : undefined;
    if (!attachment) throw new AppError('NOT_FOUND', 'No such attachment');
    return attachmentResponse({ filename: attachment.filename, contentType: safeContentType(attachment.contentType), content: attachment.content });
  } catch (error) {
    return toErrorResponse(error, { route: 'GET /mailbox/[id]/attachments/[index]' });
  }
}
