import { passcodeCookieName } from '@/lib/auth/recipient-session';
import { hostCookieOptions } from '@/lib/auth/host-cookie';
import { requestPasscode } from '@/lib/auth/passcodes/request-passcode';
import { clientIp } from '@/lib/http/client-address';
import { portalForm } from '@/lib/http/portal-form';
import { seeOther } from '@/lib/http/see-other';
import { readLinkForm } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /r/<token>/passcode – the recipient asks for a passcode
export const POST = portalForm<{ host: string; token: string }>(
  async ({ request, params: { token }, ctx, tenant }) => {
    const { claims } = await readLinkForm({ ctx, tenant, request, token });
    const challenge = await requestPasscode({
      ctx,
      tenant,
      messageId: claims.messageId,
      address: claims.address,
      ip: clientIp(request.headers),
    });
    const response = seeOther(`/r/${token}/verify?ref=${challenge.reference}`);
    // Binds the code to this browser: it works only where this cookie is.
    response.cookies.set(
      passcodeCookieName(ctx.config),
      `${challenge.challengeId}.${challenge.browserSecret}`,
      hostCookieOptions(ctx.config, 10 * 60),
    );
    return response;
  },
  { backTo: ({ token }) => `/r/${token}`, what: 'passcode' },
);
