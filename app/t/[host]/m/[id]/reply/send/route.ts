import { cookies } from 'next/headers';
import { sessionCookieName } from '@/lib/auth/recipient-session';
import { REPLY_MAX_BYTES, sendReply } from '@/lib/messages/send-reply';
import { safeContentType, safeFilename, toMessageView } from '@/lib/messages/to-message-view';
import { openForReader } from '@/lib/portal/open-for-reader';
import { formErrorResponse, seeOther } from '@/lib/portal/form-responses';
import { assertSameOrigin } from '@/lib/portal/request-guards';
import { resolveRouteTenant } from '@/lib/tenants/resolve-route-tenant';

export const runtime = 'nodejs';

// POST /m/<id>/reply/send – seal the recipient's reply and queue it
export async function POST(request: Request, { params }: { params: Promise<{ host: string; id: string }> }) {
  const { host, id } = await params;
  try {
    assertSameOrigin(request);
    const { ctx, tenant } = await resolveRouteTenant({ host });
    const opened = await openForReader({ ctx, tenant, messageId: id, sessionValue: (await cookies()).get(sessionCookieName(ctx.config))?.value });
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
