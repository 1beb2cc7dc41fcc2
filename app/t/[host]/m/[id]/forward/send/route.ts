import { sendForward } from '@/lib/messages/send-forward';
import { formErrorResponse, seeOther } from '@/lib/portal/form-responses';
import { openForFormPost } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /m/<id>/forward/send – seal the forwarded message and queue it
export async function POST(request: Request, { params }: { params: Promise<{ host: string; id: string }> }) {
  const { host, id } = await params;
  try {
    const { ctx, tenant, opened } = await openForFormPost({ request, host, messageId: id });
    const form = await request.formData();
    await sendForward({
      ctx, tenant, original: { message: opened.message, mime: opened.mime }, from: opened.session.address,
      to: String(form.get('to') ?? '').slice(0, 2000), note: String(form.get('body') ?? '').slice(0, 100_000),
    });
    return seeOther(`/m/${id}?forwarded=1`);
  } catch (error) {
    return formErrorResponse({ error, request, host, backTo: `/m/${id}/forward`, what: 'forward' });
  }
}
