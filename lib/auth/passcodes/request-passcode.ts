import crypto from 'node:crypto';
import { recordAudit } from '../../audit/record-audit';
import { isMessageOpenable } from '../../envelope/is-message-openable';
import { getTenantKey } from '../../envelope/tenant-keys';
import type { TBranding } from '../../templates/schema';
import { AppError } from '../../errors';
import { normaliseAddress } from '../../mail/address';
import { buildPasscodeMail } from '../../mail/build-passcode-mail';
import { enqueueMail, newOutboxId, notifyOutbox } from '../../mail/outbox';
import { systemAddress } from '../../mail/system-sender';
import { consumeRateLimit, withRateLimits } from '../../rate-limit/rate-limits';
import type { TContext } from '../../server/context';
import { getMessage, listRecipients } from '../../store/messages';
import type { TTenant } from '../../tenants/tenants';
import { getBranding } from '../../templates/get-branding';
import {
  hashBrowserSecret,
  hashPasscode,
  newBrowserSecret,
  newPasscode,
  newReference,
  PASSCODE_TTL_MS,
  passcodeRecipientKey,
} from './passcode-hash';
import { assertRecipientNotBlocked } from './recipient-block';

const RESEND_LIMITS = ['passcodeResendInterval', 'passcodeResendWindow'] as const;

export type RequestPasscodeOptions = { ctx: TContext; tenant: TTenant; messageId: string; address: string; ip: string; now?: number };

export type TPasscodeChallenge = { challengeId: string; reference: string; browserSecret: string; expiresAt: number };

// A template that turns passcodes off refuses them here, not only on the page; otherwise its
// branding, for the passcode mail.
export async function assertPasscodeSignIn(ctx: TContext, tenant: TTenant, template: string): Promise<TBranding> {
  const branding = await getBranding(ctx.db, tenant.id, template);
  if (!branding.policy.signInMethods.passcode) throw new AppError('FORBIDDEN', 'Passcode sign-in is turned off for this message.');
  return branding;
}

// Issues a passcode for one recipient of one message and queues its mail ahead of other mail.
// Whether or not the address is a recipient, the caller gets the same kind of answer after the
// same work (the mail is built either way); only a recipient's challenge is mailed and can verify.
export async function requestPasscode({
  ctx,
  tenant,
  messageId,
  address,
  ip,
  now = Date.now(),
}: RequestPasscodeOptions): Promise<TPasscodeChallenge> {
  await consumeRateLimit(ctx.db, { name: 'passcodeRequestPerIp', key: `${tenant.id}:${ip}`, now });
  const normalised = normaliseAddress(address);
  const message = /^[0-9a-f-]{36}$/.test(messageId) ? await getMessage(ctx.db, messageId) : undefined;
  if (!normalised || !message || message.tenant_id !== tenant.id) throw new AppError('NOT_FOUND', 'This message cannot be found.');
  const state = isMessageOpenable({ message, now });
  if (state === 'revoked') throw new AppError('ENVELOPE_REVOKED', 'The sender revoked this message.');
  if (state === 'expired') throw new AppError('ENVELOPE_EXPIRED', 'This message has expired.');
  const branding = await assertPasscodeSignIn(ctx, tenant, message.template);

  const recipient = (await listRecipients(ctx.db, message.id)).find((r) => r.address === normalised);
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const challengeId = crypto.randomUUID();
  const code = newPasscode();
  const reference = newReference();
  const browserSecret = newBrowserSecret();
  const outboxId = newOutboxId();
  const mail = await buildPasscodeMail({
    branding,
    tenantName: tenant.name,
    from: systemAddress(ctx.config, tenant),
    recipient: normalised,
    code,
    reference,
    smtpMessageId: `<${outboxId}@${tenant.mail_domain}>`,
    date: new Date(now),
  });
  // The lock-out, the resend limits and the new code in one serialised step: parallel requests
  // cannot each see room for one more code.
  const recipientKey = passcodeRecipientKey(message.id, normalised);
  const check = [{ name: 'passcodeFailuresPerRecipient', key: recipientKey } as const];
  const consume = RESEND_LIMITS.map((name) => ({ name, key: recipientKey }));
  await withRateLimits(ctx.db, { check, consume, now }, async (trx) => {
    if (recipient) await assertRecipientNotBlocked(trx, recipient.id);
    await trx
      .insertInto('passcode_challenges')
      .values({
        id: challengeId,
        tenant_id: tenant.id,
        message_id: message.id,
        recipient_id: recipient?.id ?? null,
        address: normalised,
        key_version: tenantKey.version,
        code_hash: hashPasscode(tenantKey, challengeId, code),
        browser_hash: hashBrowserSecret(browserSecret),
        reference,
        attempts: 0,
        created_at: now,
        expires_at: now + PASSCODE_TTL_MS,
        consumed_at: null,
      })
      .execute();
    if (recipient) {
      await enqueueMail(trx, {
        tenantKey,
        now,
        mail: {
          id: outboxId,
          tenantId: tenant.id,
          messageId: message.id,
          kind: 'passcode',
          mailFrom: systemAddress(ctx.config, tenant),
          rcptTo: normalised,
          smtpMessageId: `<${outboxId}@${tenant.mail_domain}>`,
          raw: mail,
        },
      });
      await recordAudit(trx, {
        tenantId: tenant.id,
        messageId: message.id,
        type: 'passcode_sent',
        actor: normalised,
        data: { reference },
        at: now,
      });
    }
  });
  if (recipient) notifyOutbox();
  return { challengeId, reference, browserSecret, expiresAt: now + PASSCODE_TTL_MS };
}
