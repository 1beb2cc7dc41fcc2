import { LARGE_UPLOAD_RETRY_SECONDS } from '@/lib/http/upload-slots';
import { isAppError, logUnknownError } from '@/lib/errors';
import { unproxiedResponse } from '@/lib/http/unproxied-response';
import { receivePostedEnvelope } from '@/lib/portal/receive-posted-envelope';
import { resolveRequestTenant } from '@/lib/tenants/resolve-request-tenant';

export const runtime = 'nodejs';

// POST /open – message.html's "Read the message": a cross-site form post by design (from a file
// on the recipient's disk). It signs no one in; it only leads to the passcode page. Outside the
// tenant tree because the proxy does not run for it (it would buffer the whole upload first).
export async function POST(request: Request) {
  try {
    const { ctx, tenant } = await resolveRequestTenant({ request });
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return unproxiedResponse({ status: 415, text: 'Unsupported form' });
    const { token } = await receivePostedEnvelope({ ctx, tenant, request });
    return unproxiedResponse({ status: 303, headers: { Location: `/r/${token}` } });
  } catch (error) {
    if (isAppError(error)) {
      const retry = error.code === 'SERVER_BUSY' ? { 'Retry-After': String(LARGE_UPLOAD_RETRY_SECONDS) } : undefined;
      return unproxiedResponse({ status: error.status, text: error.code === 'NOT_FOUND' ? 'Not found' : error.message, headers: retry });
    }
    const errorId = logUnknownError(error, { route: 'POST /open' });
    return unproxiedResponse({ status: 500, text: `Internal error (reference ${errorId})` });
  }
}
