import { assertPasscodeSignIn } from './request-passcode';
import { getMessage } from '../../store/messages';
import { recordAudit } from '../../audit/record-audit';
import { getTenantKey } from '../../envelope/tenant-keys';
import { AppError } from '../../errors';
import { consumeRateLimit, recordRateEvent, withRateLimits } from '../../rate-limit/rate-limits';
import type { TContext } from '../../server/context';
import type { TTenant } from '../../tenants/tenants';
import { hashBrowserSecret, hashPasscode, PASSCODE_MAX_ATTEMPTS, passcodeRecipientKey, safeEqualHex } from './passcode-hash';
import { assertRecipientNotBlocked, recordConsecutiveFailure, resetConsecutiveFailures } from './recipient-block';

export type VerifyPasscodeOptions = {
  ctx: TContext;
  tenant: TTenant;
  challengeId: string;
  code: string;
  // The secret the browser that asked was given (an HttpOnly cookie): a code works only there.
  browserSecret: string;
  ip: string;
  now?: number;
};

export type TVerifiedRecipient = { messageId: string; recipientId: string; address: string };

// Checks a passcode. Each try is counted before the comparison, so parallel guesses can never
// make more than PASSCODE_MAX_ATTEMPTS comparisons against one code, nor pass the lock-out.
export async function verifyPasscode({
  ctx,
  tenant,
  challengeId,
  code,
  browserSecret,
  ip,
  now = Date.now(),
}: VerifyPasscodeOptions): Promise<TVerifiedRecipient> {
  await consumeRateLimit(ctx.db, { name: 'passcodeVerifyPerIp', key: `${tenant.id}:${ip}`, now });
  const challenge = /^[0-9a-f-]{36}$/.test(challengeId)
    ? await ctx.db
        .selectFrom('passcode_challenges')
        .selectAll()
        .where('id', '=', challengeId)
        .where('tenant_id', '=', tenant.id)
        .executeTakeFirst()
    : undefined;
  if (!challenge) throw new AppError('PASSCODE_INVALID', 'Ask for a new passcode.');
  const message = await getMessage(ctx.db, challenge.message_id);
  if (!message) throw new AppError('PASSCODE_INVALID', 'Ask for a new passcode.');
  // Turned off after the code was sent: the code is refused too.
  await assertPasscodeSignIn(ctx, tenant, message.template);
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id, version: challenge.key_version });

  // The lock-out check, the try, the comparison and the failure count in one serialised step per
  // recipient: parallel guesses (on any instance) cannot pass the lock-out together.
  const recipientKey = passcodeRecipientKey(challenge.message_id, challenge.address);
  const outcome = await withRateLimits(
    ctx.db,
    { check: [{ name: 'passcodeFailuresPerRecipient', key: recipientKey }], now },
    async (trx) => {
      if (challenge.recipient_id) await assertRecipientNotBlocked(trx, challenge.recipient_id);
      const current = await trx
        .selectFrom('passcode_challenges')
        .select(['consumed_at', 'attempts'])
        .where('id', '=', challenge.id)
        .executeTakeFirstOrThrow();
      if (current.consumed_at) throw new AppError('PASSCODE_INVALID', 'This passcode was already used. Ask for a new one.');
      if (now >= challenge.expires_at) throw new AppError('PASSCODE_EXPIRED', 'This passcode has expired. Ask for a new one.');
      const counted = await trx
        .updateTable('passcode_challenges')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('id', '=', challenge.id)
        .where('attempts', '<', PASSCODE_MAX_ATTEMPTS)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      if (Number(counted.numUpdatedRows) !== 1) {
        throw new AppError('PASSCODE_EXHAUSTED', 'Too many wrong tries for this passcode. Ask for a new one.');
      }
      const cleanCode = code.replace(/\s+/g, '');
      const isCodeRight = /^\d{8}$/.test(cleanCode) && safeEqualHex(hashPasscode(tenantKey, challenge.id, cleanCode), challenge.code_hash);
      const isSameBrowser = typeof browserSecret === 'string' && safeEqualHex(hashBrowserSecret(browserSecret), challenge.browser_hash);
      if (!isCodeRight || !isSameBrowser || !challenge.recipient_id) {
        await recordRateEvent(trx, { name: 'passcodeFailuresPerRecipient', key: recipientKey, now });
        const isBlocked = challenge.recipient_id
          ? await recordConsecutiveFailure(trx, { recipientId: challenge.recipient_id, now })
          : false;
        await recordAudit(trx, {
          tenantId: tenant.id,
          messageId: challenge.message_id,
          type: 'signin_failed',
          actor: challenge.address,
          data: { method: 'passcode', ...(isBlocked ? { blocked: true } : {}) },
          at: now,
        });
        return { kind: 'wrong' as const };
      }
      // Single use: the try above already holds this challenge's row.
      await trx.updateTable('passcode_challenges').set({ consumed_at: now }).where('id', '=', challenge.id).execute();
      await resetConsecutiveFailures(trx, challenge.recipient_id);
      await recordAudit(trx, {
        tenantId: tenant.id,
        messageId: challenge.message_id,
        type: 'signin_ok',
        actor: challenge.address,
        data: { method: 'passcode' },
        at: now,
      });
      return { kind: 'ok' as const, recipientId: challenge.recipient_id };
    },
  );
  if (outcome.kind === 'wrong') throw new AppError('PASSCODE_WRONG', 'That passcode is not right. Check the latest email and try again.');
  return { messageId: challenge.message_id, recipientId: outcome.recipientId, address: challenge.address };
}
