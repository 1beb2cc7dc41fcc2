import { simpleParser } from 'mailparser';
import { splitHeaderFields } from '../mail/header-fields';
import { findHeaderEnd } from '../mail/parse-message';
import type { TMessageFacts } from './decide-recipients';

// Rules look at most this much body text: enough for a keyword, bounded for a huge message.
const MAX_BODY_TEXT = 256 * 1024;

export type ReadMessageFactsOptions = {
  raw: Buffer;
  // The envelope sender (MAIL FROM) where there is one; otherwise the From address.
  sender: string;
  // The decoded Subject (as parseOutgoingMessage read it).
  subject: string;
  // false: no rule looks at the body, so it is not parsed (bodyText empty, hasAttachment false).
  isBodyRead: boolean;
};

// What the rules look at, read from a raw message: headers (unfolded), subject, the body as text
// (HTML parts as text, bounded), size and whether it has an attachment. The relay and `rules test`
// both read facts here, so a rule tested is a rule applied. Nothing of it is stored or logged.
export async function readMessageFacts({ raw, sender, subject, isBodyRead }: ReadMessageFactsOptions): Promise<TMessageFacts> {
  const headers = splitHeaderFields({ headerBlock: raw.subarray(0, findHeaderEnd(raw)) }).map((f) => ({
    name: f.name,
    value: f.value
      .toString('utf8')
      .replace(/\r?\n(?=[ \t])/g, '')
      .trim(),
  }));
  let parsed: Awaited<ReturnType<typeof simpleParser>> | null = null;
  if (isBodyRead)
    try {
      parsed = await simpleParser(raw, {
        skipImageLinks: true,
        skipTextLinks: true,
        skipTextToHtml: true,
        maxHtmlLengthToParse: MAX_BODY_TEXT,
      });
    } catch {
      // A body mailparser cannot read has no text a rule could match; its headers still decide.
    }
  return {
    sender,
    subject,
    headers,
    bodyText: (parsed?.text ?? '').slice(0, MAX_BODY_TEXT),
    sizeBytes: raw.length,
    // Inline images of an HTML body are not attachments; anything else the parser splits off is.
    hasAttachment: (parsed?.attachments ?? []).some((a) => !a.related),
  };
}
