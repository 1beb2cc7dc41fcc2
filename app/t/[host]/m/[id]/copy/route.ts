import { sendCopy } from '@/lib/messages/conversation';
import { formErrorResponse, seeOther } from '@/lib/portal/form-responses';
import { openForFormPost } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /m/<id>/copy – "Send me a copy" of a reply the signed-in reader sent
export async function POST(request: Request, { params }: { params: Promise<{ host: string; id: string }> }) {
  const { host, id } = await params;
  try {
    const { ctx, tenant, opened } = await openForFormPost({ request, host, messageId: id });
    await sendCopy({ ctx, tenant, message: opened.message, mime: opened.mime, address: opened.session.address });
    return seeOther(`/m/${id}?copied=1`);
  } catch (error) {
    return formErrorResponse({ error, request, host, backTo: `/m/${id}`, what: 'copy' });
  }
}
