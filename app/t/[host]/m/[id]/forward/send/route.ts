import { cookies } from 'next/headers';
import { sessionCookieName } from '@/lib/auth/recipient-session';
import { sendForward } from '@/lib/messages/send-forward';
import { formErrorResponse, seeOther } from '@/lib/portal/form-responses';
import { openForReader } from '@/lib/portal/open-for-reader';
import { assertSameOrigin } from '@/lib/portal/request-guards';
import { resolveRouteTenant } from '@/lib/tenants/resolve-route-tenant';

export const runtime = 'nodejs';

// POST /m/<id>/forward/send – seal the forwarded message and queue it
export async function POST(request: Request, { params }: { params: Promise<{ host: string; id: string }> }) {
  const { host, id } = await params;
  try {
    assertSameOrigin(request);
    const { ctx, tenant } = await resolveRouteTenant({ host });
    const opened = await openForReader({ ctx, tenant, messageId: id, sessionValue: (await cookies()).get(sessionCookieName(ctx.config))?.value });
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
