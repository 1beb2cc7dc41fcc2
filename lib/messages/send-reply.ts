import MailComposer from 'nodemailer/lib/mail-composer';
import { AppError } from '../errors';
import { consumeRateLimit, isRateLimited } from '../rate-limit/rate-limits';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { restrictReplyRecipients } from './restrict-reply-recipients';
import { sendMessage } from './send-message';
import type { TMessageView } from './to-message-view';

export const REPLY_MAX_ATTACHMENTS = 10;
export const REPLY_MAX_BYTES = 20 * 1024 * 1024;

const replyRateKey = (tenant: Pick<TTenant, 'id'>, from: string) => ({ name: 'repliesPerAddress' as const, key: `${tenant.id}:${from}` });

export type CanReplyNowOptions = { ctx: TContext; tenant: TTenant; from: string; now?: number };

// The reply form asks first, so a reader at the limit is told before writing, not after.
export const canReplyNow = async ({ ctx, tenant, from, now = Date.now() }: CanReplyNowOptions) =>
  !(await isRateLimited(ctx.db, { ...replyRateKey(tenant, from), now }));

export type SendReplyOptions = {
  ctx: TContext;
  tenant: TTenant;
  original: { messageId: string; view: TMessageView };
  from: string;
  isReplyAll: boolean;
  // "Send me a copy of my reply": its sender gets a wrapper of it too.
  sendCopy?: boolean;
  body: string;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
  // Addresses the client asked to add to the reply (refused on a Do Not Forward message).
  addedRecipients?: string[];
  now?: number;
};

// A recipient's reply: a new Sealpost message of the same tenant, from the signed-in address,
// to the original sender (and, for Reply all, everyone else on it), threaded under the original.
export async function sendReply({
  ctx,
  tenant,
  original,
  from,
  isReplyAll,
  sendCopy = false,
  body,
  attachments,
  addedRecipients = [],
  now = Date.now(),
}: SendReplyOptions) {
  const text = body.replace(/\r\n?/g, '\n').trim();
  if (!text && !attachments.length) throw new AppError('BAD_REQUEST', 'Write a reply or attach a file.');
  if (attachments.length > REPLY_MAX_ATTACHMENTS) throw new AppError('PAYLOAD_TOO_LARGE', `At most ${REPLY_MAX_ATTACHMENTS} attachments`);
  if (attachments.reduce((n, a) => n + a.content.length, 0) > REPLY_MAX_BYTES)
    throw new AppError('PAYLOAD_TOO_LARGE', 'Attachments are larger than 20 MB in all');
  const { view } = original;
  const sender = view.from[0]?.address;
  if (!sender) throw new AppError('UNPROCESSABLE', 'The original message has no sender to reply to');
  const others = await restrictReplyRecipients({
    ctx,
    tenantId: tenant.id,
    messageId: original.messageId,
    from,
    sender,
    others: isReplyAll
      ? [...view.to, ...view.cc]
          .map((p) => p.address)
          .filter((a) => a && a.toLowerCase() !== from && a.toLowerCase() !== sender.toLowerCase())
      : [],
    added: addedRecipients,
  });
  // Counted once the reply is known to be sendable, so a refused empty form costs no turn.
  await consumeRateLimit(ctx.db, { ...replyRateKey(tenant, from), now });
  const quoted = (view.text || '')
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
  const subject = /^re:/i.test(view.subject) ? view.subject : `Re: ${view.subject}`;
  const references = view.messageIdHeader ? [view.messageIdHeader] : [];
  const composer = new MailComposer({
    from,
    to: sender,
    cc: others,
    subject,
    date: new Date(now),
    inReplyTo: view.messageIdHeader ?? undefined,
    references,
    text: `${text}\n\n${view.date ? `On ${new Date(view.date).toUTCString()}, ` : ''}${sender} wrote:\n${quoted}\n`,
    attachments: attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
  });
  const raw: Buffer = await new Promise((resolve, reject) => composer.compile().build((e, m) => (e ? reject(e) : resolve(m))));
  return sendMessage({ ctx, tenant, raw, actor: from, replyTo: { messageId: original.messageId, from, sendCopy }, now });
}
