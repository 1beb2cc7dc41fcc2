import { generateAuthenticationOptions } from '@simplewebauthn/server';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { saveChallenge } from './admin-challenges';
import type { TRelyingParty } from './relying-party';

export type StartPasskeySignInOptions = { ctx: Pick<TContext, 'db'>; tenant: TTenant; rp: TRelyingParty; now?: number };

// Discoverable-credential sign-in: no address is asked for, so the page says nothing about who
// is an admin; the browser offers the passkeys it holds for this host.
export async function startPasskeySignIn({ ctx, tenant, rp, now = Date.now() }: StartPasskeySignInOptions) {
  const options = await generateAuthenticationOptions({ rpID: rp.rpID, userVerification: 'required' });
  const challengeId = await saveChallenge({
    db: ctx.db,
    tenantId: tenant.id,
    purpose: 'signin',
    subject: null,
    challenge: options.challenge,
    now,
  });
  return { challengeId, options };
}
