import MailComposer from 'nodemailer/lib/mail-composer';
import { simpleParser } from 'mailparser';
import { AppError } from '../errors';
import { normaliseAddress } from '../mail/address';
import { consumeRateLimit } from '../rate-limit/rate-limits';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import type { TMessageTable } from '../store/schema';
import { brandingForMessage } from './message-restrictions';
import { refuseRestrictedAction } from './refuse-restricted-action';
import { sendMessage } from './send-message';

export const FORWARD_MAX_RECIPIENTS = 10;

// "a@x.example, b@y.example": every address must be one, at most ten, no duplicates.
export function parseForwardRecipients(input: string): string[] {
  const parts = input.split(/[,;\s]+/).filter(Boolean);
  const addresses = [...new Set(parts.map((p) => normaliseAddress(p)))];
  if (
    !parts.length ||
    parts.length > FORWARD_MAX_RECIPIENTS * 2 ||
    addresses.length > FORWARD_MAX_RECIPIENTS ||
    addresses.some((a) => a === null)
  ) {
    throw new AppError('INVALID_RECIPIENTS', `Enter up to ${FORWARD_MAX_RECIPIENTS} email addresses, separated by commas.`);
  }
  return addresses as string[];
}

export type SendForwardOptions = {
  ctx: TContext;
  tenant: TTenant;
  original: { message: TMessageTable; mime: Uint8Array };
  from: string;
  to: string;
  note: string;
  now?: number;
};

// A recipient forwards the message, where its template allows: a new Sealpost message of the same
// tenant from the signed-in address, with the original's text and attachments, in the conversation.
export async function sendForward({ ctx, tenant, original, from, to, note, now = Date.now() }: SendForwardOptions) {
  const branding = await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message: original.message });
  if (!branding.policy.allowForward)
    await refuseRestrictedAction({
      db: ctx.db,
      tenantId: tenant.id,
      messageId: original.message.id,
      actor: from,
      action: 'forward',
      restrictions: branding.policy.restrictions,
      message: 'This organisation does not allow forwarding this message.',
    });
  const recipients = parseForwardRecipients(to);
  await consumeRateLimit(ctx.db, { name: 'forwardsPerAddress', key: `${tenant.id}:${from}`, now });
  const parsed = await simpleParser(Buffer.from(original.mime), { skipImageLinks: true, skipTextLinks: true });
  const subject = parsed.subject ?? '';
  const header = [
    '---------- Forwarded message ----------',
    `From: ${parsed.from?.text ?? original.message.sender}`,
    parsed.date ? `Date: ${parsed.date.toUTCString()}` : null,
    `Subject: ${subject}`,
    `To: ${[parsed.to ?? []]
      .flat()
      .map((a) => a.text)
      .join(', ')}`,
  ].filter((l) => l !== null);
  const composer = new MailComposer({
    from,
    to: recipients,
    subject: /^fwd?:/i.test(subject) ? subject : `Fwd: ${subject}`,
    date: new Date(now),
    references: parsed.messageId ? [parsed.messageId] : [],
    text: `${note.replace(/\r\n?/g, '\n').trim()}\n\n${header.join('\n')}\n\n${parsed.text ?? ''}\n`,
    attachments: parsed.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content, cid: a.cid })),
  });
  const raw: Buffer = await new Promise((resolve, reject) => composer.compile().build((e, m) => (e ? reject(e) : resolve(m))));
  return sendMessage({ ctx, tenant, raw, actor: from, replyTo: { messageId: original.message.id, from, isForward: true }, now });
}
