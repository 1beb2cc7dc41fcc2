import { NextResponse } from 'next/server';
import { endRecipientSession, sessionCookieName } from '@/lib/auth/recipient-session';
import { hostCookieOptions } from '@/lib/http/host-cookie';
import { sessionCookieValue } from '@/lib/portal/request-session';
import { readSmallForm } from '@/lib/http/read-small-form';
import { isAppError } from '@/lib/errors';
import { assertSameOrigin } from '@/lib/portal/request-guards';
import { resolveRouteTenant } from '@/lib/tenants/resolve-route-tenant';

export const runtime = 'nodejs';

// POST /signout – end the recipient's session on this device
export async function POST(request: Request, { params }: { params: Promise<{ host: string }> }) {
  try {
    assertSameOrigin(request);
    const { ctx, tenant } = await resolveRouteTenant({ host: (await params).host });
    await readSmallForm({ request }); // the form has no fields; anything large is refused unread
    await endRecipientSession({ ctx, tenant, value: await sessionCookieValue(ctx) });
    const response = new NextResponse(null, { status: 303, headers: { Location: '/?signed-out=1' } });
    response.cookies.set(sessionCookieName(ctx.config), '', hostCookieOptions(ctx.config, 0));
    return response;
  } catch (error) {
    if (isAppError(error)) return new NextResponse(error.code === 'NOT_FOUND' ? 'Not found' : error.message, { status: error.status });
    throw error;
  }
}
