import crypto from 'node:crypto';
import type { Transaction } from 'kysely';
import { recordAudit } from '../audit/record-audit';
import { DEFAULT_TEMPLATE } from '../templates/schema';
import { wrapContentKey } from '../envelope/content-key';
import { sealEnvelope } from '../envelope/envelope';
import { sealEnvelopeParts } from '../envelope/envelope-stream';
import { getTenantKey } from '../envelope/tenant-keys';
import { AppError } from '../errors';
import { addressDomain } from '../mail/address';
import { parseOutgoingMessage, type TParsedMessage } from '../mail/parse-message';
import type { TContext } from '../server/context';
import { getMessage, getMessageByIdempotencyKey, insertMessage, listRecipients } from '../store/messages';
import { enqueueMail, notifyOutbox } from '../mail/outbox';
import { insertEnvelopeParts } from '../store/envelope-parts';
import { insertPendingEnvelope, readDeliveryEnvelope } from '../store/pending-envelopes';
import { runTransaction } from '../store/run-transaction';
import type { TDatabase, TRecipientTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';
import { getBranding } from '../templates/get-branding';
import { brandingForMessage, stricterRestrictions } from './message-restrictions';
import { sealSubject } from './message-subject';
import { buildRecipientWrapper, newWrapperIds, queueRecipientWrapper, type TRecipientWrapper } from './build-recipient-wrapper';

export type SendMessageOptions = {
  ctx: TContext;
  tenant: TTenant;
  raw: Buffer;
  template?: string;
  idempotencyKey?: string;
  // false: keep the message and its keys but hand the wrapper mails back (built one at a time, as
  // they are asked for) instead of queueing them.
  deliver?: boolean;
  actor?: string;
  // A recipient's encrypted reply (or forward): its sender is outside the organisation by nature.
  // With sendCopy the reply's sender gets a wrapper of it too.
  replyTo?: { messageId: string; from: string; sendCopy?: boolean; isForward?: boolean };
  now?: number;
  // The SMTP relay: wrappers go to exactly these (the transaction's RCPT TO), not to every address
  // the headers name; a Bcc recipient exists only here. Each must already be normalised.
  envelopeRecipients?: string[];
  // The relay: `raw` as the strict parser already read it (parseOutgoingMessage, or
  // rereadEditedSubject for a copy with its keyword removed), so it is not parsed twice.
  parsed?: TParsedMessage;
};

export type TSentMessage = {
  messageId: string;
  recipients: string[];
  rejected: string[];
  isReplay: boolean;
  // deliver: false only; empty otherwise. Each wrapper is built when the loop reaches it, so a
  // caller that writes each out before the next holds one wrapper at a time.
  wrappers: AsyncIterable<TRecipientWrapper>;
};

const NO_WRAPPERS: AsyncIterable<TRecipientWrapper> = { async *[Symbol.asyncIterator]() {} };

// Seals one outgoing message and queues a wrapper per recipient, all in one transaction:
// either the message, its keys and every wrapper are committed, or nothing is. The envelope is
// stored once; each wrapper is built by the outbox worker when it is sent.
export async function sendMessage(options: SendMessageOptions): Promise<TSentMessage> {
  const { ctx, tenant, raw, idempotencyKey } = options;
  const requestHash = crypto.createHash('sha256').update(raw).digest('hex');
  if (idempotencyKey) {
    const replay = await findReplay({ ctx, tenantId: tenant.id, idempotencyKey, requestHash });
    if (replay) return replay;
  }
  const prepared = await prepareMessage(options);
  try {
    await runTransaction({ db: ctx.db, work: (trx) => prepared.commit(trx) });
  } catch (error) {
    // Two requests with one Idempotency-Key raced: the loser answers with the winner's message.
    if (idempotencyKey) {
      const replay = await findReplay({ ctx, tenantId: tenant.id, idempotencyKey, requestHash });
      if (replay) return replay;
    }
    throw error;
  }
  if (options.deliver !== false) notifyOutbox();
  return prepared.result;
}

export type TPreparedMessage = {
  messageId: string;
  result: TSentMessage;
  // Writes the message, its keys, its wrappers and its audit in the caller's transaction.
  commit(trx: Transaction<TDatabase>): Promise<void>;
};

// Everything sendMessage does before it writes: parse, check, seal. Nothing is stored until
// commit runs, so a caller can commit several messages and rows of its own all-or-nothing.
export async function prepareMessage({
  ctx,
  tenant,
  raw,
  template = DEFAULT_TEMPLATE,
  idempotencyKey,
  deliver = true,
  actor = 'api',
  replyTo,
  now = Date.now(),
  envelopeRecipients,
  parsed: parsedBefore,
}: SendMessageOptions): Promise<TPreparedMessage> {
  const requestHash = crypto.createHash('sha256').update(raw).digest('hex');
  const parsed = parsedBefore ?? (await parseOutgoingMessage({ raw, maxBytes: ctx.config.SEALPOST_MAX_MESSAGE_BYTES }));
  const senderDomain = addressDomain(parsed.sender);
  const parent = replyTo ? await getMessage(ctx.db, replyTo.messageId) : undefined;
  if (replyTo) {
    if (parsed.sender !== replyTo.from) throw new AppError('FORBIDDEN', 'A reply is sent from the address that signed in');
    if (!parent || parent.tenant_id !== tenant.id)
      throw new AppError('FORBIDDEN', 'A reply stays with the tenant of the message it answers');
  } else if (senderDomain !== tenant.mail_domain && !senderDomain.endsWith(`.${tenant.mail_domain}`)) {
    throw new AppError('FORBIDDEN', `The sender ${parsed.sender} is not in ${tenant.mail_domain}, the organisation's mail domain`);
  }
  const addressees: Array<Pick<TRecipientTable, 'address' | 'kind'>> = envelopeRecipients
    ? envelopeRecipients.map((address) => ({ address, kind: parsed.recipients.find((r) => r.address === address)?.kind ?? 'bcc' }))
    : [...parsed.recipients];
  if (!addressees.length) {
    throw new AppError('NO_VALID_RECIPIENT', 'The message has no valid recipient', { rejected: parsed.rejected });
  }
  // Each recipient is a mail sent in the tenant's name: one message must not become a mass mailing.
  const maxRecipients = ctx.config.SEALPOST_MAX_RECIPIENTS;
  if (addressees.length > maxRecipients) {
    throw new AppError(
      'UNPROCESSABLE',
      `The message has ${addressees.length} recipients; at most ${maxRecipients} are allowed (To, Cc and Bcc together)`,
      { maxRecipients },
    );
  }
  if (replyTo?.sendCopy && !addressees.some((r) => r.address === parsed.sender)) addressees.push({ address: parsed.sender, kind: 'copy' });

  const templateBranding = await getBranding(ctx.db, tenant.id, template);
  // A reply or forward keeps the restrictions of what it answers (it quotes or carries it), and
  // names the reader in Reply-To only where that message's template does too.
  const parentPolicy = parent ? (await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message: parent })).policy : undefined;
  const restrictions = parentPolicy
    ? stricterRestrictions(templateBranding.policy.restrictions, parentPolicy.restrictions)
    : templateBranding.policy.restrictions;
  const replyToReader = templateBranding.policy.replyToReader && (parentPolicy?.replyToReader ?? true);
  const branding = { ...templateBranding, policy: { ...templateBranding.policy, restrictions, replyToReader } };
  const expiresAt = branding.policy.expiryDays ? now + branding.policy.expiryDays * 86_400_000 : null;
  const messageId = crypto.randomUUID();
  const contentKey = crypto.randomBytes(32);
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const isKept = branding.policy.delivery.link;
  // A kept message is sealed as it is stored, a part at a time (lib/store/envelope-parts.ts), when
  // commit runs; attachment-only delivery keeps no copy on the server, and its wrappers carry the
  // token made here.
  const sealOptions = { mime: parsed.mime, messageId, tenantId: tenant.id, contentKey, expiresAt };
  const envelope = isKept ? null : await sealEnvelope(sealOptions);
  const wrappedCek = wrapContentKey({ tenantKey, tenantId: tenant.id, messageId, contentKey });
  if (!isKept) contentKey.fill(0);

  const recipients: TRecipientTable[] = addressees.map((r) => ({
    id: crypto.randomUUID(),
    message_id: messageId,
    address: r.address,
    kind: r.kind,
  }));
  // S/MIME where possible: the message itself, encrypted to each recipient whose certificate is
  // known and trusted; the others get the wrapper, from the same message.
  // (lib/smime is loaded only for such a template.)
  const smime =
    deliver && !replyTo && branding.policy.smime === 'encrypt-when-possible'
      ? await (await import('../smime/plan-smime-delivery')).planSmimeDelivery({
          ctx,
          tenantId: tenant.id,
          mime: parsed.mime,
          from: parsed.sender,
          recipients,
          now,
        })
      : new Map<string, Buffer>();
  const wrapped = recipients.filter((r) => !smime.has(r.id));

  const commit = async (trx: Transaction<TDatabase>) => {
    let stored: string | null = null;
    if (isKept) {
      try {
        const sealed = sealEnvelopeParts(sealOptions);
        await insertEnvelopeParts({ db: trx, messageId, parts: sealed.parts });
        stored = sealed.frame();
      } finally {
        contentKey.fill(0);
      }
    }
    await insertMessage(
      trx,
      {
        id: messageId,
        tenant_id: tenant.id,
        sender: parsed.sender,
        key_version: tenantKey.version,
        wrapped_cek: wrappedCek,
        // Attachment-only delivery keeps no copy of the mail on the server.
        envelope: stored,
        size_bytes: parsed.mime.length,
        template,
        restrictions,
        idempotency_key: idempotencyKey ?? null,
        request_hash: requestHash,
        created_at: now,
        expires_at: expiresAt,
        revoked_at: null,
        shredded_at: null,
        in_reply_to: parent?.id ?? null,
        thread_id: parent ? (parent.thread_id ?? parent.id) : null,
        bounce_notified_at: null,
        // For the console's messages page, unless the template hides the subject.
        subject_sealed: branding.look.hideSubject
          ? null
          : sealSubject({ tenantKey, tenantId: tenant.id, messageId, subject: parsed.subject }),
      },
      recipients,
    );
    if (deliver) {
      // Held only until its last wrapper is out (lib/store/pending-envelopes.ts).
      if (envelope && wrapped.length) await insertPendingEnvelope(trx, messageId, envelope);
      for (const recipient of recipients) {
        const encrypted = smime.get(recipient.id);
        if (!encrypted) continue;
        const { outboxId, smtpMessageId } = newWrapperIds(tenant);
        await enqueueMail(trx, {
          tenantKey,
          now,
          mail: {
            id: outboxId,
            tenantId: tenant.id,
            messageId,
            kind: 'smime',
            mailFrom: parsed.sender,
            rcptTo: recipient.address,
            smtpMessageId,
            raw: encrypted,
          },
        });
      }
      for (const recipient of wrapped) {
        await queueRecipientWrapper(trx, {
          tenant,
          tenantKey,
          messageId,
          kind: replyTo ? 'reply' : 'wrapper',
          sender: parsed,
          recipient,
          now,
        });
      }
    }
    await recordAudit(trx, {
      tenantId: tenant.id,
      messageId,
      type: 'sent',
      actor,
      data: { recipients: recipients.length, ...(smime.size ? { smime: smime.size } : {}) },
      at: now,
    });
    if (replyTo)
      await recordAudit(trx, {
        tenantId: tenant.id,
        messageId: replyTo.messageId,
        type: replyTo.isForward ? 'forwarded' : 'replied',
        actor: replyTo.from,
        data: { reply: messageId },
        at: now,
      });
  };

  return {
    messageId,
    commit,
    result: {
      messageId,
      recipients: recipients.map((r) => r.address),
      rejected: parsed.rejected,
      isReplay: false,
      wrappers: deliver
        ? NO_WRAPPERS
        : {
            async *[Symbol.asyncIterator]() {
              // After commit: a kept envelope is read back from the store as its text.
              const carried = envelope ?? (await readDeliveryEnvelope(ctx.db, messageId));
              if (!carried) throw new AppError('ENVELOPE_INVALID', 'This message cannot be opened.');
              for (const recipient of recipients)
                yield await buildRecipientWrapper({ ctx, tenant, branding, recipient, envelope: carried, sender: parsed, expiresAt, now });
            },
          },
    },
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
  return { messageId: existing.id, recipients: recipients.map((r) => r.address), rejected: [], isReplay: true, wrappers: NO_WRAPPERS };
}
