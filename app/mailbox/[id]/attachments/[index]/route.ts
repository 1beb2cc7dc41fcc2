import { AppError } from '@/lib/errors';
import { attachmentResponse } from '@/lib/http/attachment-response';
import { mailboxRoute } from '@/lib/http/mailbox-route';
import { readMailboxMail } from '@/lib/mail/mailbox/read-mailbox-mail';
import { safeContentType } from '@/lib/messages/to-message-view';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /mailbox/<id>/attachments/<index> – one attachment of a local mailbox mail, always as a
// download and never as active content on this origin.
export const GET = mailboxRoute<{ id: string; index: string }>(
  async ({ params: { id, index }, config }) => {
    const mail = await readMailboxMail({ dataDir: config.dataDir, id });
    const attachment = /^\d{1,4}$/.test(index) ? mail.attachments[Number(index)] : undefined;
    if (!attachment) throw new AppError('NOT_FOUND', 'No such attachment');
    return attachmentResponse({
      filename: attachment.filename,
      contentType: safeContentType(attachment.contentType),
      content: attachment.content,
    });
  },
  { route: 'GET /mailbox/[id]/attachments/[index]' },
);
