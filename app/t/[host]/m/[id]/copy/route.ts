import { portalForm } from '@/lib/http/portal-form';
import { seeOther } from '@/lib/http/see-other';
import { sendCopy } from '@/lib/messages/conversation';
import { openForRequest } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /m/<id>/copy – "Send me a copy" of a reply the signed-in reader sent
export const POST = portalForm<{ host: string; id: string }>(
  async ({ params: { id }, ctx, tenant }) => {
    const opened = await openForRequest({ ctx, tenant, messageId: id });
    await sendCopy({ ctx, tenant, message: opened.message, mime: opened.mime, address: opened.session.address });
    return seeOther(`/m/${id}?copied=1`);
  },
  { backTo: ({ id }) => `/m/${id}`, what: 'copy' },
);
