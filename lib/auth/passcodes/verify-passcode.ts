import { assertPasscodeSignIn } from './request-passcode';
import { getMessage } from '../../store/messages';
import { recordAudit } from '../../audit/record-audit';
import { getTenantKey } from '../../envelope/tenant-keys';
import { AppError } from '../../errors';
import { consumeRateLimit, countRateEvents, RATE_LIMITS, recordRateEvent } from '../../rate-limit/rate-limits';
import type { TContext } from '../../server/context';
import type { TTenant } from '../../tenants/tenants';
import { hashBrowserSecret, hashPasscode, PASSCODE_MAX_ATTEMPTS, safeEqualHex } from './passcode-hash';

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

// Checks a passcode. Each try is counted atomically before the comparison, so parallel guesses
// can never make more than PASSCODE_MAX_ATTEMPTS comparisons against one code.
export async function verifyPasscode({ ctx, tenant, challengeId, code, browserSecret, ip, now = Date.now() }: VerifyPasscodeOptions): Promise<TVerifiedRecipient> {
  await consumeRateLimit(ctx.db, { name: 'passcodeVerifyPerIp', key: ip, now });
  const challenge = /^[0-9a-f-]{36}$/.test(challengeId)
    ? await ctx.db.selectFrom('passcode_challenges').selectAll().where('id', '=', challengeId).where('tenant_id', '=', tenant.id).executeTakeFirst()
    : undefined;
  if (!challenge) throw new AppError('PASSCODE_INVALID', 'Ask for a new passcode.');
  const message = await getMessage(ctx.db, challenge.message_id);
  if (!message) throw new AppError('PASSCODE_INVALID', 'Ask for a new passcode.');
  // Turned off after the code was sent: the code is refused too.
  await assertPasscodeSignIn(ctx, tenant, message.template);
  const recipientKey = `${challenge.message_id}:${challenge.address}`;
  if ((await countRateEvents(ctx.db, { name: 'passcodeFailuresPerRecipient', key: recipientKey, now })) >= RATE_LIMITS.passcodeFailuresPerRecipient.max) {
    throw new AppError('LOCKED_OUT', 'Too many wrong passcodes. Try again in an hour.');
  }
  if (challenge.consumed_at) throw new AppError('PASSCODE_INVALID', 'This passcode was already used. Ask for a new one.');
  if (now >= challenge.expires_at) throw new AppError('PASSCODE_EXPIRED', 'This passcode has expired. Ask for a new one.');

  const counted = await ctx.db
    .updateTable('passcode_challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', challenge.id)
    .where('attempts', '<', PASSCODE_MAX_ATTEMPTS)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  if (Number(counted.numUpdatedRows) !== 1) {
    throw new AppError('PASSCODE_EXHAUSTED', 'Too many wrong tries for this passcode. Ask for a new one.');
  }

  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id, version: challenge.key_version });
  const cleanCode = code.replace(/\s+/g, '');
  const isCodeRight = /^\d{8}$/.test(cleanCode) && safeEqualHex(hashPasscode(tenantKey, challenge.id, cleanCode), challenge.code_hash);
  const isSameBrowser = typeof browserSecret === 'string' && safeEqualHex(hashBrowserSecret(browserSecret), challenge.browser_hash);
  if (!isCodeRight || !isSameBrowser || !challenge.recipient_id) {
    await recordRateEvent(ctx.db, { name: 'passcodeFailuresPerRecipient', key: recipientKey, now });
    await recordAudit(ctx.db, { tenantId: tenant.id, messageId: challenge.message_id, type: 'signin_failed', actor: challenge.address, data: { method: 'passcode' }, at: now });
    throw new AppError('PASSCODE_WRONG', 'That passcode is not right. Check the latest email and try again.');
  }
  // Single use: only the request that flips consumed_at wins.
  const consumed = await ctx.db
    .updateTable('passcode_challenges')
    .set({ consumed_at: now })
    .where('id', '=', challenge.id)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  if (Number(consumed.numUpdatedRows) !== 1) throw new AppError('PASSCODE_INVALID', 'This passcode was already used. Ask for a new one.');
  await recordAudit(ctx.db, { tenantId: tenant.id, messageId: challenge.message_id, type: 'signin_ok', actor: challenge.address, data: { method: 'passcode' }, at: now });
  return { messageId: challenge.message_id, recipientId: challenge.recipient_id, address: challenge.address };
}
