import crypto from 'node:crypto';
import { type RegistrationResponseJSON, verifyRegistrationResponse } from '@simplewebauthn/server';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TContext } from '../server/context';
import { runTransaction } from '../store/run-transaction';
import type { TTenant } from '../tenants/tenants';
import { takeChallenge } from './admin-challenges';
import { findLiveInvitation } from './find-invitation';
import type { TRelyingParty } from './relying-party';
import { adminActor } from './roles';

export type FinishPasskeyRegistrationOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenant: TTenant;
  rp: TRelyingParty;
  challengeId: string;
  response: unknown;
  // The invitation link's token (its secret is checked again), or the signed-in admin's id.
  from: { token: string } | { adminId: string };
  label?: string;
  now?: number;
};

const refuse = () => new AppError('BAD_REQUEST', 'The passkey could not be registered. Try again.');

// Verifies the authenticator's answer against the challenge (consumed once) and stores the
// passkey: for an invitation, the new admin too, and the invitation is spent in the same
// transaction (two tabs racing on one link make one admin).
export async function finishPasskeyRegistration({
  ctx,
  tenant,
  rp,
  challengeId,
  response,
  from,
  label = 'Passkey',
  now = Date.now(),
}: FinishPasskeyRegistrationOptions): Promise<{ adminId: string; email: string }> {
  const challenge = await takeChallenge({ db: ctx.db, tenantId: tenant.id, id: challengeId, purpose: 'register', now });
  if (!challenge?.subject) throw refuse();
  const [kind, subjectId, userId] = challenge.subject.split(':') as [string, string, string | undefined];
  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: challenge.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
    });
  } catch {
    throw refuse();
  }
  if (!verification.verified || !verification.registrationInfo) throw refuse();
  const { credential } = verification.registrationInfo;
  const passkey = {
    id: crypto.randomUUID(),
    credential_id: credential.id,
    public_key: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    transports: JSON.stringify(credential.transports ?? []),
    label: label.trim().slice(0, 60) || 'Passkey',
    created_at: now,
    last_used_at: null,
  };
  // The link's secret is checked before the transaction (it reads the tenant key, and SQLite's one
  // connection is the transaction's); inside it, the invitation is spent only if still unused.
  const invitation = kind === 'invitation' && 'token' in from ? await findLiveInvitation({ ctx, tenant, token: from.token, now }) : null;
  return runTransaction({
    db: ctx.db,
    work: async (trx) => {
      if (kind === 'invitation') {
        if (!invitation || invitation.id !== subjectId || !userId)
          throw new AppError('NOT_FOUND', 'This invitation is not valid any more.');
        const spent = await trx
          .updateTable('admin_invitations')
          .set({ used_at: now })
          .where('id', '=', invitation.id)
          .where('used_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirst();
        if (Number(spent.numUpdatedRows) !== 1) throw new AppError('NOT_FOUND', 'This invitation is not valid any more.');
        const taken = await trx
          .selectFrom('admins')
          .select('id')
          .where('tenant_id', '=', tenant.id)
          .where('email', '=', invitation.email)
          .executeTakeFirst();
        if (taken) throw new AppError('CONFLICT', `${invitation.email} is already an admin of this tenant.`);
        const adminId = crypto.randomUUID();
        await trx
          .insertInto('admins')
          .values({
            id: adminId,
            tenant_id: tenant.id,
            email: invitation.email,
            role: invitation.role,
            webauthn_user_id: userId,
            created_at: now,
          })
          .execute();
        await trx
          .insertInto('admin_passkeys')
          .values({ ...passkey, admin_id: adminId })
          .execute();
        await recordAudit(trx, {
          tenantId: tenant.id,
          type: 'admin_added',
          actor: invitation.invited_by,
          data: { email: invitation.email, before: null, after: JSON.stringify({ role: invitation.role }) },
          at: now,
        });
        return { adminId, email: invitation.email };
      }
      if (kind === 'admin' && 'adminId' in from && from.adminId === subjectId) {
        const admin = await trx
          .selectFrom('admins')
          .selectAll()
          .where('id', '=', subjectId)
          .where('tenant_id', '=', tenant.id)
          .executeTakeFirst();
        if (!admin) throw refuse();
        await trx
          .insertInto('admin_passkeys')
          .values({ ...passkey, admin_id: admin.id })
          .execute();
        await recordAudit(trx, {
          tenantId: tenant.id,
          type: 'admin_passkey_added',
          actor: adminActor(admin),
          data: { email: admin.email, after: JSON.stringify({ label: passkey.label }) },
          at: now,
        });
        return { adminId: admin.id, email: admin.email };
      }
      throw refuse();
    },
  });
}
