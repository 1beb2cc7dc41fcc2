import type { NextRequest } from 'next/server';
import { logUnknownError } from '../../errors';
import type { TContext } from '../../server/context';
import { listRecipients } from '../../store/messages';
import { portalOrigin, publicOrigin } from '../../tenants/tenants';
import { recordIdentity, type TAuthHostSignIn } from './federated-signin';
import { buildAuthOptions, handleNextAuthCallback } from './next-auth';
import { judgeAdminIdentity } from './admin-identity';
import { verifiedAddress } from './verified-address';

export type TakeProviderCallbackOptions = {
  ctx: TContext;
  request: NextRequest;
  providerId: string;
  loaded: TAuthHostSignIn;
  cookies: Record<string, string>;
};

export type TProviderCallbackOutcome =
  // On to the tenant host's hand-off; next-auth's answer carries cookies to keep (or clear).
  | { kind: 'handoff'; location: string; answered: Response }
  | { kind: 'failed'; reason: 'wrong_provider' | 'callback_error' | 'callback_refused'; answered?: Response };

// The callback of the sign-in this browser has under way, for the provider it named. next-auth
// checks state, PKCE, nonce and the ID token; then the address must be proven and a recipient's
// (an admin's, for a console sign-in).
// Whatever the outcome, the tenant host learns it through a hand-off.
export async function takeProviderCallback({
  ctx,
  request,
  providerId,
  loaded,
  cookies,
}: TakeProviderCallbackOptions): Promise<TProviderCallbackOutcome> {
  const { signIn, tenant, provider } = loaded;
  // A callback meant for one provider is never taken at another's address.
  if (provider.id !== providerId) return { kind: 'failed', reason: 'wrong_provider' };
  let handoffUrl: string | null = null;
  const options = await buildAuthOptions({
    ctx,
    tenantId: tenant.id,
    provider,
    cookies,
    onIdentity: async (claims) => {
      if (signIn.purpose === 'admin') {
        const judged = await judgeAdminIdentity({ db: ctx.db, tenantId: tenant.id, provider, claims });
        const handoff = await recordIdentity({ ctx, signIn, outcome: judged.outcome, address: judged.address });
        // Back to the host the admin began on (its slug host, or the custom domain), not
        // necessarily the one mail links name.
        const origin = signIn.return_host ? publicOrigin(ctx.config, signIn.return_host) : portalOrigin(ctx.config, tenant);
        handoffUrl = `${origin}/admin/oidc/complete?id=${signIn.id}&h=${handoff}`;
        return handoffUrl;
      }
      const proven = verifiedAddress({ provider, claims });
      const isRecipient =
        proven.outcome === 'ok' && (await listRecipients(ctx.db, signIn.message_id!)).some((r) => r.address === proven.address);
      const outcome = proven.outcome === 'ok' && !isRecipient ? 'not_recipient' : proven.outcome;
      const handoff = await recordIdentity({ ctx, signIn, outcome, address: proven.address });
      handoffUrl = `${portalOrigin(ctx.config, tenant)}/federated/complete?id=${signIn.id}&h=${handoff}`;
      return handoffUrl;
    },
  });
  let answered: Response;
  try {
    answered = await handleNextAuthCallback({ request, options, providerId });
  } catch (error) {
    logUnknownError(error, { route: 'GET /api/auth/callback/[provider]' });
    return { kind: 'failed', reason: 'callback_error' };
  }
  if (handoffUrl && answered.headers.get('location') === handoffUrl) return { kind: 'handoff', location: handoffUrl, answered };
  // next-auth refused the callback: state, PKCE, nonce, the code, or the ID token did not hold.
  return { kind: 'failed', reason: 'callback_refused', answered };
}
