import { passcodeCookieName } from '@/lib/auth/recipient-session';
import { hostCookieOptions } from '@/lib/http/host-cookie';
import { requestPasscode } from '@/lib/auth/passcodes/request-passcode';
import { formErrorResponse, seeOther } from '@/lib/portal/form-responses';
import { clientIp } from '@/lib/http/client-address';
import { readLinkFormPost } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /r/<token>/passcode – the recipient asks for a passcode
export async function POST(request: Request, { params }: { params: Promise<{ host: string; token: string }> }) {
  const { host, token } = await params;
  try {
    const { ctx, tenant, claims } = await readLinkFormPost({ request, host, token });
    const challenge = await requestPasscode({ ctx, tenant, messageId: claims.messageId, address: claims.address, ip: clientIp(request.headers) });
    const response = seeOther(`/r/${token}/verify?ref=${challenge.reference}`);
    // Binds the code to this browser: it works only where this cookie is.
    response.cookies.set(passcodeCookieName(ctx.config), `${challenge.challengeId}.${challenge.browserSecret}`, hostCookieOptions(ctx.config, 10 * 60));
    return response;
  } catch (error) {
    return formErrorResponse({ error, request, host, backTo: `/r/${token}`, what: 'passcode' });
  }
}
