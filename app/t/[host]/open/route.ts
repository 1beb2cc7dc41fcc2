import { NextResponse } from 'next/server';
import { readLimitedBody } from '@/lib/api/read-limited-body';
import { maxEnvelopeChars } from '@/lib/envelope/envelope';
import { isAppError, logUnknownError } from '@/lib/errors';
import { acceptPostedEnvelope } from '@/lib/portal/accept-posted-envelope';
import { resolveRouteTenant } from '@/lib/tenants/resolve-route-tenant';

export const runtime = 'nodejs';

// POST /open – message.html's "Read the message": a cross-site form post by design (from a file
// on the recipient's disk). It signs no one in; it only leads to the passcode page.
export async function POST(request: Request, { params }: { params: Promise<{ host: string }> }) {
  try {
    const { ctx, tenant } = await resolveRouteTenant({ host: (await params).host });
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return new NextResponse('Unsupported form', { status: 415 });
    const body = await readLimitedBody({ request, maxBytes: maxEnvelopeChars(ctx.config.SEALPOST_MAX_MESSAGE_BYTES) + 8192 });
    const form = new URLSearchParams(body.toString('latin1'));
    const rt = form.get('rt') ?? '';
    await acceptPostedEnvelope({ ctx, tenant, envelope: form.get('envelope') ?? '', recipientToken: rt });
    return new NextResponse(null, { status: 303, headers: { Location: `/r/${rt}` } });
  } catch (error) {
    if (isAppError(error)) {
      const status = error.code === 'ENVELOPE_REVOKED' || error.code === 'ENVELOPE_EXPIRED' ? 410 : error.status;
      const text = error.code === 'NOT_FOUND' ? 'Not found' : error.message;
      return new NextResponse(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    const errorId = logUnknownError(error, { route: 'POST /open' });
    return new NextResponse(`Internal error (reference ${errorId})`, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
}
