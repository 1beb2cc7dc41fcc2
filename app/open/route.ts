import { unproxiedPost } from '@/lib/http/unproxied-post';
import { unproxiedResponse } from '@/lib/http/unproxied-response';
import { receivePostedEnvelope } from '@/lib/portal/receive-posted-envelope';

export const runtime = 'nodejs';

// POST /open – message.html's "Read the message": a cross-site form post by design (from a file
// on the recipient's disk). It signs no one in; it only leads to the passcode page. Outside the
// tenant tree because the proxy does not run for it (it would buffer the whole upload first).
export const POST = unproxiedPost(
  async ({ request, ctx, tenant }) => {
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return unproxiedResponse({ status: 415, text: 'Unsupported form' });
    const { token } = await receivePostedEnvelope({ ctx, tenant, request });
    return unproxiedResponse({ status: 303, headers: { Location: `/r/${token}` } });
  },
  { route: 'POST /open' },
);
