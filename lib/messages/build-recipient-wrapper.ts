import type { TBranding } from '../templates/schema';
import { createRecipientToken } from '../envelope/recipient-token';
import { composeWrapperMail } from '../mail/build-wrapper-mail';
import type { TEnvelopeText } from '../mail/templates/message-html';
import { collectMail, type TComposedMail } from '../mail/mail-source';
import { enqueueWrapper, newOutboxId, type TOutboxMail } from '../mail/outbox';
import type { TTenantKey } from '../envelope/tenant-keys';
import type { Kysely, Transaction } from 'kysely';
import type { TDatabase } from '../store/schema';
import type { TContext } from '../server/context';
import type { TRecipientTable } from '../store/schema';
import { isOnMailDomain, systemAddress } from '../mail/system-sender';
import { portalOrigin, type TTenant } from '../tenants/tenants';

export type TWrapperIds = { outboxId: string; smtpMessageId: string };

// The outbox row's id and the wrapper's SMTP Message-ID, fixed when it is queued so that every
// retry sends the same Message-ID (a receiving server or a reader can tell a resend).
// The Message-ID is on the tenant's mail domain, the domain its From and DKIM signature name.
export function newWrapperIds(tenant: Pick<TTenant, 'mail_domain'>): TWrapperIds {
  const outboxId = newOutboxId();
  return { outboxId, smtpMessageId: `<${outboxId}@${tenant.mail_domain}>` };
}

export type QueueRecipientWrapperOptions = {
  tenant: Pick<TTenant, 'id' | 'slug' | 'mail_domain'>;
  tenantKey: TTenantKey;
  messageId: string;
  kind: TOutboxMail['kind'];
  sender: { sender: string; senderName: string; subject: string };
  recipient: Pick<TRecipientTable, 'id' | 'address'>;
  now: number;
};

// Queues one recipient's wrapper: the outbox worker builds it when it sends it, from the message's
// stored envelope (lib/messages/build-queued-wrapper.ts).
export async function queueRecipientWrapper(
  trx: Kysely<TDatabase> | Transaction<TDatabase>,
  { tenant, tenantKey, messageId, kind, sender, recipient, now }: QueueRecipientWrapperOptions,
): Promise<void> {
  const { outboxId, smtpMessageId } = newWrapperIds(tenant);
  await enqueueWrapper(trx, {
    tenantKey,
    now,
    wrapper: {
      id: outboxId,
      tenantId: tenant.id,
      messageId,
      kind,
      mailFrom: sender.sender,
      rcptTo: recipient.address,
      smtpMessageId,
      recipientId: recipient.id,
      spec: { senderName: sender.senderName, subject: sender.subject },
    },
  });
}

export type TRecipientWrapper = { outboxId: string; recipient: string; smtpMessageId: string; raw: Buffer };
export type TComposedRecipientWrapper = Omit<TRecipientWrapper, 'raw'> & { mail: TComposedMail };

export type BuildRecipientWrapperOptions = {
  ctx: TContext;
  tenant: TTenant;
  branding: TBranding;
  recipient: TRecipientTable;
  envelope: TEnvelopeText;
  sender: { sender: string; senderName: string; subject: string };
  expiresAt: number | null;
  now: number;
  ids?: TWrapperIds;
};

// One recipient's wrapper mail, built whole in memory (`sealpost encrypt`, `deliver: false`).
export async function buildRecipientWrapper(options: BuildRecipientWrapperOptions): Promise<TRecipientWrapper> {
  const { mail, ...wrapper } = await composeRecipientWrapper(options);
  return { ...wrapper, raw: await collectMail(mail) };
}

// One recipient's wrapper mail: their own link token, and the envelope as message.html (streamed
// when the mail is read: see composeWrapperMail).
export async function composeRecipientWrapper({
  ctx,
  tenant,
  branding,
  recipient,
  envelope,
  sender,
  expiresAt,
  now,
  ids = newWrapperIds(tenant),
}: BuildRecipientWrapperOptions): Promise<TComposedRecipientWrapper> {
  const claims = { messageId: recipient.message_id, recipientId: recipient.id, address: recipient.address };
  const recipientToken = await createRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, claims });
  // A reader's reply or forward is written as the tenant, "<Reader> via <Tenant>" from its system
  // address, answers going to the reader: in their own address's name it would fail DMARC at the
  // receiver (their provider's SPF and DKIM do not cover our servers).
  const isOutsideAuthor = !isOnMailDomain(sender.sender, tenant);
  const mail = await composeWrapperMail({
    onBehalf: isOutsideAuthor
      ? {
          from: systemAddress(ctx.config, tenant),
          tenantLabel: branding.look.displayName ?? tenant.name,
          // A reader's copy of their own reply needs no Reply-To: it would name themselves.
          replyTo: recipient.address === sender.sender || !branding.policy.replyToReader ? undefined : sender.sender,
          isAnswerInPortal: recipient.address !== sender.sender && !branding.policy.replyToReader,
        }
      : undefined,
    branding,
    tenantName: tenant.name,
    sender: sender.sender,
    senderName: sender.senderName,
    recipient: recipient.address,
    subject: sender.subject,
    origin: portalOrigin(ctx.config, tenant),
    messageId: recipient.message_id,
    smtpMessageId: ids.smtpMessageId,
    envelope,
    recipientToken,
    expiresAt,
    date: new Date(now),
  });
  return { outboxId: ids.outboxId, recipient: recipient.address, smtpMessageId: ids.smtpMessageId, mail };
}
