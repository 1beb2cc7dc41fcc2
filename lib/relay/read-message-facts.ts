import { simpleParser } from 'mailparser';
import type { TMessageFacts } from '../rules/decide-recipients';
import { splitHeaderFields } from '../mail/header-fields';

// Rules look at most this much body text: enough for a keyword, bounded for a huge message.
const MAX_BODY_TEXT = 256 * 1024;

export type ReadMessageFactsOptions = { raw: Buffer; headerBlock: Buffer; sender: string; subject: string };

// What a mail-flow rule may look at, read once from the message. Nothing of it is stored.
export async function readMessageFacts({ raw, headerBlock, sender, subject }: ReadMessageFactsOptions): Promise<TMessageFacts> {
  const headers = splitHeaderFields({ headerBlock }).map((f) => ({ name: f.name, value: f.value.toString('utf8').replace(/\r?\n[ \t]/g, ' ').trim() }));
  // Attachments are not kept in memory beyond their headers: only whether there is one matters.
  let hasAttachment = false;
  let bodyText = '';
  try {
    const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: MAX_BODY_TEXT });
    hasAttachment = (parsed.attachments ?? []).some((a) => a.contentDisposition === 'attachment' || Boolean(a.filename));
    bodyText = (parsed.text ?? '').slice(0, MAX_BODY_TEXT);
  } catch {
    // A body mailparser cannot read has no text a rule could match; its headers still decide.
  }
  return { sender, subject, headers, bodyText, sizeBytes: raw.length, hasAttachment };
}
