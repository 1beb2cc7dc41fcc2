import crypto from 'node:crypto';
import { getTenantKey } from '../envelope/tenant-keys';
import { isAppError } from '../errors';
import { enqueueMail, newOutboxId, notifyOutbox } from '../mail/outbox';
import { parseOutgoingMessage, rereadEditedSubject, type TParsedMessage } from '../mail/parse-message';
import { prepareMessage, type TPreparedMessage } from '../messages/send-message';
import { withRateLimits } from '../rate-limit/rate-limits';
import { decideRecipients } from '../rules/decide-recipients';
import { recordRuleDecisions } from '../rules/record-rule-decisions';
import { removeSubjectKeyword } from '../rules/remove-subject-keyword';
import type { TContext } from '../server/context';
import { rememberSignerCertificate } from '../smime/remember-signer-certificate';
import type { TTenant } from '../tenants/tenants';

export type TRelayOutcome =
  | { kind: 'accepted'; encrypted: string[]; passed: string[]; messageIds: string[] }
  | { kind: 'refused'; code: number; text: string };

export type RelayMessageOptions = {
  ctx: TContext;
  tenant: TTenant;
  // The SMTP envelope: MAIL FROM and every RCPT TO, already checked and normalised.
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
  // The one header pass-through adds (a complete field, CRLF included).
  received: string;
  now?: number;
};

// One line of text for an SMTP reply: no control characters, bounded.
export const smtpText = (text: string) =>
  text
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .trim()
    .slice(0, 300);

// Decides a relayed message per recipient and stores the outcome: every sealed message, every
// pass-through row and every decision's audit commit in one transaction, or none does. Returns
// a refusal for what the sender must fix (5xx); throws when storing failed (the caller answers 451).
export async function relayMessage({
  ctx,
  tenant,
  mailFrom,
  rcptTo,
  raw,
  received,
  now = Date.now(),
}: RelayMessageOptions): Promise<TRelayOutcome> {
  let parsed: TParsedMessage;
  try {
    // The strict reading every sealed message gets: a header it refuses is refused here too.
    parsed = await parseOutgoingMessage({ raw, maxBytes: ctx.config.SEALPOST_MAX_MESSAGE_BYTES });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return {
      kind: 'refused',
      code: error.code === 'PAYLOAD_TOO_LARGE' ? 552 : 550,
      text: `${error.code === 'PAYLOAD_TOO_LARGE' ? '5.3.4' : '5.6.0'} ${smtpText(error.message)}`,
    };
  }
  const decisions = await decideRecipients({
    db: ctx.db,
    tenantId: tenant.id,
    mailDomain: tenant.mail_domain,
    message: { raw, sender: mailFrom, subject: parsed.subject },
    recipients: rcptTo,
  });
  const rejected = decisions.find((d) => d.action.kind === 'reject');
  if (rejected?.action.kind === 'reject')
    return { kind: 'refused', code: 550, text: `5.7.1 ${smtpText(rejected.action.text) || 'Message refused by policy'}` };

  // One sealed message per template (and keyword to remove), for exactly its recipients.
  const groups = new Map<string, { template: string; removeKeyword?: string; recipients: string[] }>();
  const passed: string[] = [];
  for (const d of decisions) {
    if (d.action.kind === 'pass') passed.push(d.recipient);
    else if (d.action.kind === 'encrypt') {
      const key = JSON.stringify([d.action.template, d.action.removeKeyword ?? '']);
      const group = groups.get(key) ?? { template: d.action.template, removeKeyword: d.action.removeKeyword, recipients: [] };
      group.recipients.push(d.recipient);
      groups.set(key, group);
    }
  }
  const prepared: Array<{ prepared: TPreparedMessage; recipients: string[] }> = [];
  for (const group of groups.values()) {
    const sealedRaw = group.removeKeyword ? removeSubjectKeyword({ raw, keyword: group.removeKeyword }) : raw;
    try {
      prepared.push({
        recipients: group.recipients,
        prepared: await prepareMessage({
          ctx,
          tenant,
          raw: sealedRaw,
          parsed: sealedRaw === raw ? parsed : rereadEditedSubject({ parsed, raw: sealedRaw }),
          template: group.template,
          actor: 'relay',
          envelopeRecipients: group.recipients,
          now,
        }),
      });
    } catch (error) {
      if (!isAppError(error) || ['INTERNAL', 'SERVER_BUSY'].includes(error.code)) throw error;
      return { kind: 'refused', code: 550, text: `5.7.1 ${smtpText(error.message)}` };
    }
  }
  const tenantKey = passed.length ? await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id }) : null;
  // Pass-through keeps the bytes (DKIM signatures stay valid); only the Received field is added.
  const passRaw = [Buffer.from(received), raw];
  const messageOf = new Map<string, string>();
  for (const p of prepared) for (const r of p.recipients) messageOf.set(r, p.prepared.messageId);

  try {
    await withRateLimits(ctx.db, { consume: [{ name: 'relayMessagesPerTenant', key: tenant.id }], now }, async (trx) => {
      for (const p of prepared) await p.prepared.commit(trx);
      for (const rcptTo of passed) {
        await enqueueMail(trx, {
          tenantKey: tenantKey!,
          now,
          mail: {
            id: newOutboxId(),
            tenantId: tenant.id,
            messageId: null,
            kind: 'passthrough',
            mailFrom,
            rcptTo, // Our own tracking id (unique per row): a sending server's retry carries the same Message-ID.
            smtpMessageId: `<${crypto.randomUUID()}@relay.sealpost>`,
            raw: passRaw,
          },
        });
      }
      await recordRuleDecisions({ db: trx, tenantId: tenant.id, messageIds: messageOf, decisions, actor: 'relay', at: now });
    });
  } catch (error) {
    if (isAppError(error) && error.code === 'RATE_LIMITED') return { kind: 'refused', code: 452, text: `4.7.0 ${smtpText(error.message)}` };
    throw error;
  }
  notifyOutbox();
  // An S/MIME-signed message teaches Sealpost its signer's certificate, once the message is
  // stored and without holding the SMTP answer (a CRL may take seconds); it never throws.
  void rememberSignerCertificate({ db: ctx.db, tenantId: tenant.id, raw, sender: parsed.sender, now });
  return { kind: 'accepted', encrypted: [...messageOf.keys()], passed, messageIds: prepared.map((p) => p.prepared.messageId) };
}
