import { portalForm } from '@/lib/http/portal-form';
import { seeOther } from '@/lib/http/see-other';
import { REPLY_MAX_BYTES, sendReply } from '@/lib/messages/send-reply';
import { safeContentType, safeFilename, toMessageView } from '@/lib/messages/to-message-view';
import { openForRequest } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /m/<id>/reply/send – seal the recipient's reply and queue it
export const POST = portalForm<{ host: string; id: string }>(
  async ({ request, params: { id }, ctx, tenant }) => {
    const opened = await openForRequest({ ctx, tenant, messageId: id });
    if (Number(request.headers.get('content-length') ?? 0) > REPLY_MAX_BYTES + 200_000)
      return seeOther(`/m/${id}/reply?error=PAYLOAD_TOO_LARGE`);
    const form = await request.formData();
    const files = form.getAll('attachments').filter((f): f is File => typeof f !== 'string' && f.size > 0);
    const attachments = await Promise.all(
      files.map(async (f, i) => ({
        filename: safeFilename(f.name, i, f.type),
        contentType: safeContentType(f.type),
        content: Buffer.from(await f.arrayBuffer()),
      })),
    );
    const view = await toMessageView({ mime: opened.mime, attachmentUrl: (i) => `/m/${id}/attachments/${i}` });
    await sendReply({
      ctx,
      tenant,
      original: { messageId: id, view },
      from: opened.session.address,
      isReplyAll: form.get('all') === '1',
      sendCopy: form.get('copy') === '1',
      body: String(form.get('body') ?? '').slice(0, 100_000),
      attachments,
      addedRecipients: ['to', 'cc', 'bcc'].flatMap((f) =>
        form.getAll(f).flatMap((v) =>
          String(v)
            .slice(0, 2000)
            .split(/[,;\s]+/)
            .filter(Boolean),
        ),
      ),
    });
    return seeOther(`/m/${id}?replied=1`);
  },
  { backTo: ({ id }) => `/m/${id}/reply`, what: 'send' },
);
