import MailComposer from 'nodemailer/lib/mail-composer';
import type { TBranding } from '../templates/schema';
import { mailMessages } from '../i18n/mail-messages';
import { renderBounceNoticeHtml, renderBounceNoticeText } from './templates/bounce-notice';

export type BuildBounceNoticeOptions = {
  branding: TBranding;
  tenantName: string;
  from: string;
  sender: string;
  // The recipient that could not be reached, and what their server said.
  address: string;
  reason: string;
  sentAt: number;
  smtpMessageId: string;
  date: Date;
};

// "Your encrypted message to <address> could not be delivered", in the tenant's language and look.
export async function buildBounceNotice(o: BuildBounceNoticeOptions): Promise<Buffer> {
  const t = mailMessages(o.branding.look.language);
  const content = { branding: o.branding, tenantName: o.tenantName, address: o.address, sentAt: o.sentAt, reason: o.reason };
  const composer = new MailComposer({
    from: { name: o.branding.look.displayName ?? o.tenantName, address: o.from },
    to: o.sender,
    subject: t.bounceSubject(o.address),
    messageId: o.smtpMessageId,
    date: o.date,
    text: renderBounceNoticeText(content),
    html: await renderBounceNoticeHtml(content),
    // A reply to a mail, written by a machine (RFC 3834): no out-of-office answers to it.
    headers: { 'Auto-Submitted': 'auto-replied' },
  });
  return new Promise((resolve, reject) => {
    composer.compile().build((error, message) => (error ? reject(error) : resolve(message)));
  });
}
