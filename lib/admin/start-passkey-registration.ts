import crypto from 'node:crypto';
import { generateRegistrationOptions } from '@simplewebauthn/server';
import { AppError } from '../errors';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { saveChallenge } from './admin-challenges';
import { findLiveInvitation } from './find-invitation';
import type { TRelyingParty } from './relying-party';

export type StartPasskeyRegistrationOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenant: TTenant;
  rp: TRelyingParty;
  // An invitation link's token, or a signed-in admin adding another passkey.
  from: { token: string } | { adminId: string };
  now?: number;
};

// The options navigator.credentials.create() needs: a discoverable credential with user
// verification (a passkey), none of the admin's existing ones again.
export async function startPasskeyRegistration({ ctx, tenant, rp, from, now = Date.now() }: StartPasskeyRegistrationOptions) {
  let email: string;
  let userId: string;
  let subject: string;
  let exclude: Array<{ id: string }> = [];
  if ('token' in from) {
    const invitation = await findLiveInvitation({ ctx, tenant, token: from.token, now });
    if (!invitation) throw new AppError('NOT_FOUND', 'This invitation is not valid any more.');
    email = invitation.email;
    userId = crypto.randomBytes(16).toString('base64url');
    subject = `invitation:${invitation.id}:${userId}`;
  } else {
    const admin = await ctx.db.selectFrom('admins').selectAll().where('id', '=', from.adminId).executeTakeFirstOrThrow();
    email = admin.email;
    userId = admin.webauthn_user_id;
    subject = `admin:${admin.id}`;
    exclude = await ctx.db.selectFrom('admin_passkeys').select('credential_id as id').where('admin_id', '=', admin.id).execute();
  }
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.rpID,
    userName: email,
    userID: Buffer.from(userId, 'base64url'),
    attestationType: 'none',
    excludeCredentials: exclude,
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const challengeId = await saveChallenge({
    db: ctx.db,
    tenantId: tenant.id,
    purpose: 'register',
    subject,
    challenge: options.challenge,
    now,
  });
  return { challengeId, options };
}
