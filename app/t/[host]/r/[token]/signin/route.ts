import { cookies } from 'next/headers';
import { createRecipientSession, passcodeCookieName } from '@/lib/auth/recipient-session';
import { hostCookieOptions } from '@/lib/auth/host-cookie';
import { verifyPasscode } from '@/lib/auth/passcodes/verify-passcode';
import { assertPasscodeSignIn } from '@/lib/auth/passcodes/request-passcode';
import { getMessage } from '@/lib/store/messages';
import { clientIp } from '@/lib/http/client-address';
import { portalForm } from '@/lib/http/portal-form';
import { seeOther } from '@/lib/http/see-other';
import { setSessionCookie } from '@/lib/http/set-cookies';
import { readLinkForm } from '@/lib/portal/request-session';

export const runtime = 'nodejs';

// POST /r/<token>/signin – check the passcode, start the recipient's session
export const POST = portalForm<{ host: string; token: string }>(
  async ({ request, params: { token }, ctx, tenant }) => {
    const { claims, form } = await readLinkForm({ ctx, tenant, request, token });
    // Refused before any passcode is looked at when the message's template turns passcodes off.
    const message = await getMessage(ctx.db, claims.messageId);
    if (message) await assertPasscodeSignIn(ctx, tenant, message.template);
    const [challengeId = '', browserSecret = ''] = ((await cookies()).get(passcodeCookieName(ctx.config))?.value ?? '').split('.');
    const verified = await verifyPasscode({
      ctx,
      tenant,
      challengeId,
      browserSecret,
      code: String(form.get('passcode') ?? '').slice(0, 32),
      ip: clientIp(request.headers),
    });
    const session = await createRecipientSession({ ctx, tenant, session: { ...verified, isKept: form.get('keep') === '1' } });
    const response = seeOther(`/m/${verified.messageId}`);
    setSessionCookie({ response, config: ctx.config, cookie: session });
    response.cookies.set(passcodeCookieName(ctx.config), '', hostCookieOptions(ctx.config, 0));
    return response;
  },
  { backTo: ({ token }) => `/r/${token}/verify`, what: 'signin' },
);
