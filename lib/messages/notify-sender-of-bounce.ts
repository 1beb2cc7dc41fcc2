import { recordAudit } from '../audit/record-audit';
import { getTenantKey } from '../envelope/tenant-keys';
import { AppError } from '../errors';
import { buildBounceNotice } from '../mail/build-bounce-notice';
import { enqueueMail, newOutboxId, notifyOutbox } from '../mail/outbox';
import { systemAddress } from '../mail/system-sender';
import { withRateLimits } from '../rate-limit/rate-limits';
import type { TContext } from '../server/context';
import { getMessage } from '../store/messages';
import type { TOutboxTable } from '../store/schema';
import { getTenantById } from '../tenants/tenants';
import { getBranding } from '../templates/get-branding';

// Only a message's own mail (a wrapper, a reply, an S/MIME delivery) tells its sender: never a
// passcode (the reader asked for it, the sender did not send it), a notice (no notice about a
// notice) or relayed mail.
const NOTIFYING_KINDS: ReadonlySet<TOutboxTable['kind']> = new Set(['wrapper', 'reply', 'smime']);

export type NotifySenderOfBounceOptions = { ctx: TContext; row: TOutboxTable; reason: string; now?: number };

export type TBounceNoticeOutcome = 'queued' | 'not_applicable' | 'already_notified' | 'rate_limited';

// A recipient's server refused a message for good: its sender gets one notice per message (the
// first refusal claims the message's bounce_notified_at), at most RATE_LIMITS.bounceNoticesPerSender an hour.
export async function notifySenderOfBounce({
  ctx,
  row,
  reason,
  now = Date.now(),
}: NotifySenderOfBounceOptions): Promise<TBounceNoticeOutcome> {
  if (!NOTIFYING_KINDS.has(row.kind) || !row.message_id) return 'not_applicable';
  const message = await getMessage(ctx.db, row.message_id);
  const tenant = await getTenantById(ctx.db, row.tenant_id);
  if (!message || !tenant || message.tenant_id !== tenant.id) return 'not_applicable';
  if (message.bounce_notified_at !== null) return 'already_notified';
  // A reader's copy of their own reply that bounced is no news to the sender of that reply.
  if (row.rcpt_to === message.sender) return 'not_applicable';
  const branding = await getBranding(ctx.db, tenant.id, message.template);
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const id = newOutboxId();
  const from = systemAddress(ctx.config, tenant);
  const raw = await buildBounceNotice({
    branding,
    tenantName: tenant.name,
    from,
    sender: message.sender,
    address: row.rcpt_to,
    reason: reason.slice(0, 300),
    sentAt: message.created_at,
    smtpMessageId: `<${id}@${tenant.mail_domain}>`,
    date: new Date(now),
  });
  try {
    const outcome = await withRateLimits(
      ctx.db,
      { consume: [{ name: 'bounceNoticesPerSender', key: `${tenant.id}:${message.sender}` }], now },
      async (trx): Promise<TBounceNoticeOutcome> => {
        const claimed = await trx
          .updateTable('messages')
          .set({ bounce_notified_at: now })
          .where('id', '=', message.id)
          .where('bounce_notified_at', 'is', null)
          .executeTakeFirst();
        // Another recipient's refusal, on another worker, got there first. Thrown: nothing is counted.
        if (Number(claimed.numUpdatedRows) === 0) throw new AppError('CONFLICT', 'already notified');
        await enqueueMail(trx, {
          tenantKey,
          now,
          mail: {
            id,
            tenantId: tenant.id,
            messageId: message.id,
            kind: 'notification',
            mailFrom: from,
            rcptTo: message.sender,
            smtpMessageId: `<${id}@${tenant.mail_domain}>`,
            raw,
          },
        });
        await recordAudit(trx, {
          tenantId: tenant.id,
          messageId: message.id,
          type: 'bounce_notified',
          actor: 'system',
          data: { recipient: row.rcpt_to, sender: message.sender },
          at: now,
        });
        return 'queued';
      },
    );
    notifyOutbox();
    return outcome;
  } catch (error) {
    if (error instanceof AppError && error.code === 'CONFLICT') return 'already_notified';
    if (error instanceof AppError && error.code === 'RATE_LIMITED') {
      await recordAudit(ctx.db, {
        tenantId: tenant.id,
        messageId: message.id,
        type: 'bounce_notice_limited',
        actor: 'system',
        data: { recipient: row.rcpt_to },
        at: now,
      });
      return 'rate_limited';
    }
    throw error;
  }
}
