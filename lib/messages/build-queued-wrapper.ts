import { Readable } from 'node:stream';
import { isMessageOpenable } from '../envelope/is-message-openable';
import type { TTenantKey } from '../envelope/tenant-keys';
import { collectMail, type TComposedMail } from '../mail/mail-source';
import { openWrapperSpec } from '../mail/outbox';
import type { TContext } from '../server/context';
import { getMessageHead } from '../store/messages';
import type { TOutboxTable } from '../store/schema';
import { getTenantById } from '../tenants/tenants';
import { composeRecipientWrapper } from './build-recipient-wrapper';
import { brandingForMessage, parentAllowsReplyToReader } from './message-restrictions';
import { shareEnvelopes, type TEnvelopeShare } from './share-envelopes';

export type BuildQueuedWrapperOptions = {
  ctx: TContext;
  row: TOutboxTable;
  tenantKey: TTenantKey;
  now?: number;
  // The batch's envelopes, read once per message (the worker's); by default this wrapper's own read.
  envelopes?: TEnvelopeShare;
};

export type TQueuedWrapperOutcome =
  | { kind: 'built'; mail: TComposedMail }
  // Never to be sent: the message was revoked or expired, or the row no longer matches it.
  | { kind: 'cancelled'; reason: string }
  | { kind: 'invalid'; reason: string };

// The outbox worker's half of a wrapper queued without its body: the one recipient's wrapper,
// built now from the message's stored envelope, with a recipient token made now.
export async function buildQueuedWrapper({
  ctx,
  row,
  tenantKey,
  now = Date.now(),
  envelopes = shareEnvelopes({ db: ctx.db, rows: [] }),
}: BuildQueuedWrapperOptions): Promise<TQueuedWrapperOutcome> {
  if (!row.message_id || !row.recipient_id) return { kind: 'invalid', reason: 'queued wrapper names no message or recipient' };
  const message = await getMessageHead(ctx.db, row.message_id);
  if (!message || message.tenant_id !== row.tenant_id) return { kind: 'invalid', reason: 'queued wrapper of an unknown message' };
  // A revoked or expired message sends nothing more: a mail that could not open would only mislead.
  const state = isMessageOpenable({ message, now });
  if (state !== 'open') return { kind: 'cancelled', reason: `message ${state} before delivery` };
  const envelope = await envelopes.load(message.id);
  if (!envelope) return { kind: 'cancelled', reason: 'the message is no longer held for delivery' };
  const recipient = await ctx.db
    .selectFrom('recipients')
    .selectAll()
    .where('id', '=', row.recipient_id)
    .where('message_id', '=', message.id)
    .executeTakeFirst();
  // The token and the SMTP envelope must name the same person.
  if (!recipient || recipient.address !== row.rcpt_to) return { kind: 'invalid', reason: 'queued wrapper does not match its recipient' };
  const tenant = await getTenantById(ctx.db, row.tenant_id);
  if (!tenant) return { kind: 'invalid', reason: 'queued wrapper of an unknown tenant' };
  const branding = await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message });
  const replyToReader =
    branding.policy.replyToReader && (await parentAllowsReplyToReader({ db: ctx.db, tenantId: tenant.id, parentId: message.in_reply_to }));
  // Sent without a server copy: a template changed since to link delivery must not mail a dead link.
  const delivery = message.is_kept ? branding.policy.delivery : { link: false, attachment: true };
  let spec: ReturnType<typeof openWrapperSpec>;
  try {
    spec = openWrapperSpec(row, tenantKey);
  } catch {
    return { kind: 'invalid', reason: 'queued wrapper cannot be decrypted' };
  }
  const wrapper = await composeRecipientWrapper({
    ctx,
    tenant,
    branding: { ...branding, policy: { ...branding.policy, delivery, replyToReader } },
    recipient,
    envelope,
    sender: { sender: row.mail_from, senderName: spec.senderName, subject: spec.subject },
    expiresAt: message.expires_at,
    // Built again on a retry: the same Message-ID and date, a fresh token.
    now: row.created_at,
    ids: { outboxId: row.id, smtpMessageId: row.smtp_message_id },
  });
  // S/MIME-signed when the template asks (DKIM signs the result as it leaves): the signature covers
  // the whole wrapper, so a signed one is built in memory rather than streamed. pkijs is loaded
  // then: a process that never signs never loads it (over a second of start-up).
  if (branding.policy.smime !== 'off') {
    const { signMail } = await import('../smime/sign-mail');
    const signed = await signMail({ ctx, tenantId: tenant.id, raw: await collectMail(wrapper.mail), from: row.mail_from, now });
    return { kind: 'built', mail: { open: () => Readable.from([signed]) } };
  }
  return { kind: 'built', mail: wrapper.mail };
}
