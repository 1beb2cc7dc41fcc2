import { endRecipientSession, sessionCookieName } from '@/lib/auth/recipient-session';
import { hostCookieOptions } from '@/lib/auth/host-cookie';
import { portalForm } from '@/lib/http/portal-form';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';
import { sessionCookieValue } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /signout – end the recipient's session on this device (no form page to go back to)
export const POST = portalForm<{ host: string }>(
  async ({ request, ctx, tenant }) => {
    await readSmallForm({ request }); // the form has no fields; anything large is refused unread
    await endRecipientSession({ ctx, tenant, value: await sessionCookieValue(ctx) });
    const response = seeOther('/?signed-out=1');
    response.cookies.set(sessionCookieName(ctx.config), '', hostCookieOptions(ctx.config, 0));
    return response;
  },
  { what: 'signout' },
);
