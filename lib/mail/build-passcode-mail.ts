import MailComposer from 'nodemailer/lib/mail-composer';
import type { TBranding } from '../templates/schema';
import { mailMessages } from '../i18n/mail-messages';
import { renderPasscodeHtml, renderPasscodeText } from './templates/passcode-mail';

export type BuildPasscodeMailOptions = {
  branding: TBranding;
  tenantName: string;
  from: string;
  recipient: string;
  code: string;
  reference: string;
  smtpMessageId: string;
  date: Date;
};

// The passcode mail: the code in the subject (phones show it in the notification) and the body.
export async function buildPasscodeMail(o: BuildPasscodeMailOptions): Promise<Buffer> {
  const t = mailMessages(o.branding.look.language);
  const content = { branding: o.branding, tenantName: o.tenantName, code: o.code, reference: o.reference };
  const composer = new MailComposer({
    from: { name: o.branding.look.displayName ?? o.tenantName, address: o.from },
    to: o.recipient,
    subject: t.passcodeSubject(o.code, o.reference),
    messageId: o.smtpMessageId,
    date: o.date,
    text: renderPasscodeText(content),
    html: await renderPasscodeHtml(content),
    // An automatic mail: no out-of-office replies to it.
    headers: { 'Auto-Submitted': 'auto-generated' },
  });
  return new Promise((resolve, reject) => {
    composer.compile().build((error, message) => (error ? reject(error) : resolve(message)));
  });
}
