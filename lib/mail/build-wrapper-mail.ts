import crypto from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { TBranding } from '../templates/schema';
import { mailMessages } from '../i18n/mail-messages';
import type { TComposedMail } from './mail-source';
import { renderMessageHtml, streamMessageHtml, type TEnvelopeText } from './templates/message-html';
import { renderWrapperHtml, renderWrapperText } from './templates/wrapper-mail';

export type BuildWrapperMailOptions = {
  branding: TBranding;
  tenantName: string;
  sender: string;
  senderName: string;
  recipient: string;
  subject: string;
  origin: string;
  messageId: string;
  smtpMessageId: string;
  envelope: TEnvelopeText;
  recipientToken: string;
  expiresAt: number | null;
  date: Date;
  // An outside author (a reader's reply or forward): From the tenant's system address, named
  // "<author> via <tenant>", Reply-To the author (or, without, a line saying to answer in the portal).
  onBehalf?: { from: string; tenantLabel: string; replyTo?: string; isAnswerInPortal?: boolean };
};

export const readUrlFor = (origin: string, recipientToken: string) => `${origin}/r/${recipientToken}`;

// One wrapper per recipient: the branded notice, the "Read the message" link carrying that
// recipient's token, and message.html holding the envelope. Rendered once; composed anew each
// time it is read, with message.html streamed from the one envelope in memory. The boundary is
// fixed (Date and Message-ID are given) so each reading is the same bytes, which DKIM needs.
export async function composeWrapperMail(o: BuildWrapperMailOptions): Promise<TComposedMail> {
  const t = mailMessages(o.branding.look.language);
  const senderLabel = o.senderName ? `${o.senderName} (${o.sender})` : o.sender;
  const readUrl = o.branding.policy.delivery.link ? readUrlFor(o.origin, o.recipientToken) : null;
  const hasAttachment = o.branding.policy.delivery.attachment;
  const content = {
    branding: o.branding,
    tenantName: o.tenantName,
    senderLabel,
    readUrl,
    expiresAt: o.expiresAt,
    hasAttachment,
    isAnswerInPortal: Boolean(o.onBehalf?.isAnswerInPortal && readUrl),
  };
  const messageHtml = hasAttachment
    ? await renderMessageHtml({
        branding: o.branding,
        tenantName: o.tenantName,
        senderLabel,
        origin: o.origin,
        envelope: o.envelope,
        recipientToken: o.recipientToken,
        expiresAt: o.expiresAt,
      })
    : null;
  const mail = {
    from: o.onBehalf
      ? { name: t.via(o.senderName || o.sender, o.onBehalf.tenantLabel), address: o.onBehalf.from }
      : { name: o.senderName, address: o.sender },
    ...(o.onBehalf?.replyTo ? { replyTo: o.onBehalf.replyTo } : {}),
    to: o.recipient,
    subject: o.branding.look.hideSubject ? t.subjectHidden(o.senderName || o.sender) : o.subject,
    messageId: o.smtpMessageId,
    date: o.date,
    text: renderWrapperText(content),
    html: await renderWrapperHtml(content),
    headers: { 'X-Sealpost-Message-Id': o.messageId },
    baseBoundary: crypto.randomBytes(8).toString('hex'),
  };
  return {
    open: () =>
      new MailComposer({
        ...mail,
        // The attachment's whole part, encoded as it streams (lib/mail/base64-lines.ts).
        attachments: messageHtml ? [{ raw: streamMessageHtml(messageHtml) }] : [],
      })
        .compile()
        .createReadStream(),
  };
}
