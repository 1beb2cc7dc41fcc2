import crypto from 'node:crypto';
import { recordAudit } from '../audit/record-audit';
import { DEFAULT_TEMPLATE } from '../branding/schema';
import { wrapContentKey } from '../envelope/content-key';
import { sealEnvelope } from '../envelope/envelope';
import { createRecipientToken } from '../envelope/recipient-token';
import { getTenantKey } from '../envelope/tenant-keys';
import { AppError } from '../errors';
import { addressDomain } from '../mail/address';
import { buildWrapperMail } from '../mail/build-wrapper-mail';
import { enqueueMail, newOutboxId } from '../mail/outbox';
import { parseOutgoingMessage } from '../mail/parse-message';
import type { TContext } from '../server/context';
import { getMessage, getMessageByIdempotencyKey, insertMessage, listRecipients } from '../store/messages';
import type { TRecipientTable } from '../store/schema';
import type { TBranding } from '../branding/schema';
import { getBranding, portalOrigin, tenantHost, type TTenant } from '../tenants/tenants';

export type SendMessageOptions = {
  ctx: TContext;
  tenant: TTenant;
  raw: Buffer;
  template?: string;
  idempotencyKey?: string;
  // false: keep the message and its keys but hand the wrapper mails back instead of queueing them.
  deliver?: boolean;
  actor?: string;
  // A recipient's encrypted reply (or forward): its sender is outside the organisation by nature.
  // With sendCopy the reply's sender gets a wrapper of it too.
  replyTo?: { messageId: string; from: string; sendCopy?: boolean; isForward?: boolean };
  now?: number;
};

export type TSentMessage = {
  messageId: string;
  recipients: string[];
  rejected: string[];
  isReplay: boolean;
  wrappers: Array<{ recipient: string; smtpMessageId: string; raw: Buffer }>;
};

// Seals one outgoing message and queues a wrapper per recipient, all in one transaction:
// either the message, its keys and every wrapper are committed, or nothing is.
export async function sendMessage({ ctx, tenant, raw, template = DEFAULT_TEMPLATE, idempotencyKey, deliver = true, actor = 'api', replyTo, now = Date.now() }: SendMessageOptions): Promise<TSentMessage> {
  const requestHash = crypto.createHash('sha256').update(raw).digest('hex');
  if (idempotencyKey) {
    const replay = await findReplay({ ctx, tenantId: tenant.id, idempotencyKey, requestHash });
    if (replay) return replay;
  }
  const parsed = await parseOutgoingMessage({ raw, maxBytes: ctx.config.SEALPOST_MAX_MESSAGE_BYTES });
  const senderDomain = addressDomain(parsed.sender);
  const parent = replyTo ? await getMessage(ctx.db, replyTo.messageId) : undefined;
  if (replyTo) {
    if (parsed.sender !== replyTo.from) throw new AppError('FORBIDDEN', 'A reply is sent from the address that signed in');
    if (!parent || parent.tenant_id !== tenant.id) throw new AppError('FORBIDDEN', 'A reply stays with the tenant of the message it answers');
  } else if (senderDomain !== tenant.mail_domain && !senderDomain.endsWith(`.${tenant.mail_domain}`)) {
    throw new AppError('FORBIDDEN', `The sender ${parsed.sender} is not in ${tenant.mail_domain}, the organisation's mail domain`);
  }
  if (!parsed.recipients.length) {
    throw new AppError('NO_VALID_RECIPIENT', 'The message has no valid recipient', { rejected: parsed.rejected });
  }
  const addressees: Array<Pick<TRecipientTable, 'address' | 'kind'>> = [...parsed.recipients];
  if (replyTo?.sendCopy && !addressees.some((r) => r.address === parsed.sender)) addressees.push({ address: parsed.sender, kind: 'copy' });

  const branding = await getBranding(ctx.db, tenant.id, template);
  const expiresAt = branding.expiryDays ? now + branding.expiryDays * 86_400_000 : null;
  const messageId = crypto.randomUUID();
  const contentKey = crypto.randomBytes(32);
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const envelope = await sealEnvelope({ mime: parsed.mime, messageId, tenantId: tenant.id, contentKey, expiresAt });
  const wrappedCek = wrapContentKey({ tenantKey, tenantId: tenant.id, messageId, contentKey });
  contentKey.fill(0);

  const recipients: TRecipientTable[] = addressees.map((r) => ({ id: crypto.randomUUID(), message_id: messageId, address: r.address, kind: r.kind }));
  // One after another: each wrapper of a large message holds a copy of the envelope.
  const wrappers: TRecipientWrapper[] = [];
  for (const recipient of recipients) {
    wrappers.push(await buildRecipientWrapper({ ctx, tenant, branding, recipient, envelope, sender: parsed, expiresAt, now }));
  }

  try {
    await ctx.db.transaction().execute(async (trx) => {
      await insertMessage(
        trx,
        {
          id: messageId, tenant_id: tenant.id, sender: parsed.sender, key_version: tenantKey.version, wrapped_cek: wrappedCek,
          // Attachment-only delivery keeps no copy of the mail on the server.
          envelope: branding.delivery.link ? envelope : null,
          size_bytes: parsed.mime.length, template, idempotency_key: idempotencyKey ?? null, request_hash: requestHash,
          created_at: now, expires_at: expiresAt, revoked_at: null, shredded_at: null,
          in_reply_to: parent?.id ?? null, thread_id: parent ? (parent.thread_id ?? parent.id) : null,
        },
        recipients,
      );
      if (deliver) {
        for (const w of wrappers) {
          await enqueueMail(trx, {
            tenantKey,
            now,
            mail: { id: w.outboxId, tenantId: tenant.id, messageId, kind: replyTo ? 'reply' : 'wrapper', mailFrom: parsed.sender, rcptTo: w.recipient, smtpMessageId: w.smtpMessageId, raw: w.raw },
          });
        }
      }
      await recordAudit(trx, { tenantId: tenant.id, messageId, type: 'sent', actor, data: { recipients: recipients.length }, at: now });
      if (replyTo) await recordAudit(trx, { tenantId: tenant.id, messageId: replyTo.messageId, type: replyTo.isForward ? 'forwarded' : 'replied', actor: replyTo.from, data: { reply: messageId }, at: now });
    });
  } catch (error) {
    // Two requests with one Idempotency-Key raced: the loser answers with the winner's message.
    if (idempotencyKey) {
      const replay = await findReplay({ ctx, tenantId: tenant.id, idempotencyKey, requestHash });
      if (replay) return replay;
    }
    throw error;
  }
  return {
    messageId,
    recipients: recipients.map((r) => r.address),
    rejected: parsed.rejected,
    isReplay: false,
    wrappers: wrappers.map(({ recipient, smtpMessageId, raw: mail }) => ({ recipient, smtpMessageId, raw: mail })),
  };
}

type FindReplayOptions = { ctx: TContext; tenantId: string; idempotencyKey: string; requestHash: string };

async function findReplay({ ctx, tenantId, idempotencyKey, requestHash }: FindReplayOptions): Promise<TSentMessage | null> {
  const existing = await getMessageByIdempotencyKey(ctx.db, tenantId, idempotencyKey);
  if (!existing) return null;
  if (existing.request_hash !== requestHash) {
    throw new AppError('CONFLICT', 'This Idempotency-Key was already used with a different message');
  }
  const recipients = await listRecipients(ctx.db, existing.id);
  return { messageId: existing.id, recipients: recipients.map((r) => r.address), rejected: [], isReplay: true, wrappers: [] };
}

export type TRecipientWrapper = { outboxId: string; recipient: string; smtpMessageId: string; raw: Buffer };

export type BuildRecipientWrapperOptions = {
  ctx: TContext;
  tenant: TTenant;
  branding: TBranding;
  recipient: TRecipientTable;
  envelope: string;
  sender: { sender: string; senderName: string; subject: string };
  expiresAt: number | null;
  now: number;
};

// One recipient's wrapper mail: their own link token, and the envelope as message.html.
export async function buildRecipientWrapper({ ctx, tenant, branding, recipient, envelope, sender, expiresAt, now }: BuildRecipientWrapperOptions): Promise<TRecipientWrapper> {
  const outboxId = newOutboxId();
  const smtpMessageId = `<${outboxId}@${tenantHost(ctx.config, tenant)}>`;
  const claims = { messageId: recipient.message_id, recipientId: recipient.id, address: recipient.address };
  const recipientToken = await createRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, claims });
  const raw = await buildWrapperMail({
    branding, tenantName: tenant.name, sender: sender.sender, senderName: sender.senderName, recipient: recipient.address,
    subject: sender.subject, origin: portalOrigin(ctx.config, tenant), messageId: recipient.message_id, smtpMessageId, envelope, recipientToken, expiresAt, date: new Date(now),
  });
  return { outboxId, recipient: recipient.address, smtpMessageId, raw };
}
