import { portalForm } from '@/lib/http/portal-form';
import { seeOther } from '@/lib/http/see-other';
import { sendForward } from '@/lib/messages/send-forward';
import { openForRequest } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /m/<id>/forward/send – seal the forwarded message and queue it
export const POST = portalForm<{ host: string; id: string }>(
  async ({ request, params: { id }, ctx, tenant }) => {
    const opened = await openForRequest({ ctx, tenant, messageId: id });
    const form = await request.formData();
    await sendForward({
      ctx,
      tenant,
      original: { message: opened.message, mime: opened.mime },
      from: opened.session.address,
      to: String(form.get('to') ?? '').slice(0, 2000),
      note: String(form.get('body') ?? '').slice(0, 100_000),
    });
    return seeOther(`/m/${id}?forwarded=1`);
  },
  { backTo: ({ id }) => `/m/${id}/forward`, what: 'forward' },
);
