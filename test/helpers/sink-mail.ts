import type { TSmtpSink } from './smtp-sink';

const LINK = /href="(http:\/\/[^"]+\/r\/[^"]+)"/;

// The landing link (http://<tenant>.localhost:<port>/r/<token>) in a wrapper mail's HTML.
export function linkInMail(html: unknown): string {
  const href = LINK.exec(String(html))?.[1];
  if (!href) throw new Error('no wrapper link in the mail');
  return href;
}

export type LinkForOptions = { sink: TSmtpSink; address: string; subject?: string; from?: number };

// The link a recipient finds in their wrapper mail (the first one from `from` on, with `subject` if given).
export function linkFor({ sink, address, subject, from = 0 }: LinkForOptions): string {
  const mail = sink.mails
    .slice(from)
    .find((m) => m.rcptTo[0] === address && (subject === undefined || m.parsed.subject === subject) && /\/r\//.test(String(m.parsed.html)));
  if (!mail) throw new Error(`no wrapper link for ${address}`);
  return linkInMail(mail.parsed.html);
}

const passcodeMails = (sink: TSmtpSink, address: string) =>
  sink.mails.filter((m) => m.rcptTo[0] === address && /passcode/i.test(m.parsed.subject ?? ''));

export const passcodeCount = (sink: TSmtpSink, address: string) => passcodeMails(sink, address).length;

// The passcode in the newest passcode mail to `address`, once there are more than `seen` of them.
export async function passcodeFor(sink: TSmtpSink, address: string, seen: number): Promise<string> {
  const start = Date.now();
  for (;;) {
    const mails = passcodeMails(sink, address);
    if (mails.length > seen) return /(\d{8})/.exec(mails.at(-1)!.parsed.subject ?? '')![1]!;
    if (Date.now() - start > 20_000) throw new Error(`no passcode mail for ${address}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
