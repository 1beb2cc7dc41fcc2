import { cookies } from 'next/headers';
import { sessionCookieName } from '@/lib/auth/recipient-session';
import { sendCopy } from '@/lib/messages/conversation';
import { openForReader } from '@/lib/portal/open-for-reader';
import { formErrorResponse, seeOther } from '@/lib/portal/form-responses';
import { assertSameOrigin } from '@/lib/portal/request-guards';
import { resolveRouteTenant } from '@/lib/tenants/resolve-route-tenant';

export const runtime = 'nodejs';

// POST /m/<id>/copy – "Send me a copy" of a reply the signed-in reader sent
export async function POST(request: Request, { params }: { params: Promise<{ host: string; id: string }> }) {
  const { host, id } = await params;
  try {
    assertSameOrigin(request);
    const { ctx, tenant } = await resolveRouteTenant({ host });
    const opened = await openForReader({ ctx, tenant, messageId: id, sessionValue: (await cookies()).get(sessionCookieName(ctx.config))?.value });
    await sendCopy({ ctx, tenant, message: opened.message, mime: Buffer.from(opened.mime.buffer, opened.mime.byteOffset, opened.mime.byteLength), address: opened.session.address });
    return seeOther(`/m/${id}?copied=1`);
  } catch (error) {
    return formErrorResponse({ error, request, host, backTo: `/m/${id}`, what: 'copy' });
  }
}
