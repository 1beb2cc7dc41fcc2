import { type AuthenticationResponseJSON, type AuthenticatorTransport, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { takeChallenge } from './admin-challenges';
import type { TRelyingParty } from './relying-party';
import { adminActor } from './roles';

export type FinishPasskeySignInOptions = {
  ctx: Pick<TContext, 'db'>;
  tenant: TTenant;
  rp: TRelyingParty;
  challengeId: string;
  response: unknown;
  now?: number;
};

const refuse = () => new AppError('UNAUTHORIZED', 'That passkey did not sign you in.');

// The admin whose passkey (of this tenant) signed the challenge, which is consumed once. The
// signature counter only moves forward: a cloned authenticator that reuses one is refused.
export async function finishPasskeySignIn({ ctx, tenant, rp, challengeId, response, now = Date.now() }: FinishPasskeySignInOptions) {
  const challenge = await takeChallenge({ db: ctx.db, tenantId: tenant.id, id: challengeId, purpose: 'signin', now });
  const credentialId = (response as { id?: unknown } | null)?.id;
  const passkey =
    challenge && typeof credentialId === 'string' && credentialId.length <= 1024
      ? await ctx.db
          .selectFrom('admin_passkeys')
          .innerJoin('admins', 'admins.id', 'admin_passkeys.admin_id')
          .select([
            'admin_passkeys.id',
            'admin_passkeys.credential_id',
            'admin_passkeys.public_key',
            'admin_passkeys.counter',
            'admin_passkeys.transports',
            'admins.id as admin_id',
            'admins.email',
          ])
          .where('admin_passkeys.credential_id', '=', credentialId)
          .where('admins.tenant_id', '=', tenant.id)
          .executeTakeFirst()
      : undefined;
  let verified = false;
  let newCounter = 0;
  if (challenge && passkey) {
    try {
      const result = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: challenge.challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpID,
        requireUserVerification: true,
        credential: {
          id: passkey.credential_id,
          publicKey: Buffer.from(passkey.public_key, 'base64url'),
          counter: Number(passkey.counter),
          transports: JSON.parse(passkey.transports) as AuthenticatorTransport[],
        },
      });
      verified = result.verified;
      newCounter = result.authenticationInfo.newCounter;
    } catch {
      verified = false;
    }
  }
  if (!verified || !passkey) {
    await recordAudit(ctx.db, {
      tenantId: tenant.id,
      type: 'admin_signin_failed',
      actor: passkey ? adminActor(passkey) : null,
      data: { method: 'passkey' },
      at: now,
    });
    throw refuse();
  }
  await ctx.db.updateTable('admin_passkeys').set({ counter: newCounter, last_used_at: now }).where('id', '=', passkey.id).execute();
  return { adminId: passkey.admin_id, email: passkey.email };
}
