import { REPLY_MAX_BYTES, sendReply } from '@/lib/messages/send-reply';
import { safeContentType, safeFilename, toMessageView } from '@/lib/messages/to-message-view';
import { formErrorResponse, seeOther } from '@/lib/portal/form-responses';
import { openForFormPost } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /m/<id>/reply/send – seal the recipient's reply and queue it
export async function POST(request: Request, { params }: { params: Promise<{ host: string; id: string }> }) {
  const { host, id } = await params;
  try {
    const { ctx, tenant, opened } = await openForFormPost({ request, host, messageId: id });
    if (Number(request.headers.get('content-length') ?? 0) > REPLY_MAX_BYTES + 200_000) return seeOther(`/m/${id}/reply?error=PAYLOAD_TOO_LARGE`);
    const form = await request.formData();
    const files = form.getAll('attachments').filter((f): f is File => typeof f !== 'string' && f.size > 0);
    const attachments = await Promise.all(
      files.map(async (f, i) => ({ filename: safeFilename(f.name, i, f.type), contentType: safeContentType(f.type), content: Buffer.from(await f.arrayBuffer()) })),
    );
    const view = await toMessageView({ mime: opened.mime, attachmentUrl: (i) => `/m/${id}/attachments/${i}` });
    await sendReply({
      ctx, tenant, original: { messageId: id, view }, from: opened.session.address, isReplyAll: form.get('all') === '1', sendCopy: form.get('copy') === '1',
      body: String(form.get('body') ?? '').slice(0, 100_000), attachments,
    });
    return seeOther(`/m/${id}?replied=1`);
  } catch (error) {
    return formErrorResponse({ error, request, host, backTo: `/m/${id}/reply`, what: 'send' });
  }
}
