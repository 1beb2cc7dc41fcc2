import { simpleParser } from 'mailparser';
import { splitHeaderFields } from '../mail/header-fields';
import type { TMessageFacts } from './decide-recipients';

export type ReadMessageFactsOptions = {
  raw: Buffer;
  // The envelope sender (MAIL FROM) where there is one; otherwise the From address.
  sender?: string;
};

// What the rules look at, read from a raw message: headers (unfolded), subject, the body as text
// (HTML parts as text), size and whether it has an attachment. Nothing of it is stored or logged.
export async function readMessageFacts({ raw, sender }: ReadMessageFactsOptions): Promise<TMessageFacts> {
  const headerEnd = findHeaderEnd(raw);
  const headers = splitHeaderFields({ headerBlock: raw.subarray(0, headerEnd) }).map((f) => ({
    name: f.name,
    value: f.value.toString('utf8').replace(/\r?\n(?=[ \t])/g, '').trim(),
  }));
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true });
  return {
    sender: sender ?? parsed.from?.value[0]?.address ?? '',
    subject: parsed.subject ?? '',
    headers,
    bodyText: parsed.text ?? '',
    sizeBytes: raw.length,
    // Inline images of an HTML body are not attachments; anything else the parser splits off is.
    hasAttachment: parsed.attachments.some((a) => !a.related),
  };
}

function findHeaderEnd(raw: Buffer): number {
  const ends = [raw.indexOf('\r\n\r\n'), raw.indexOf('\n\n')].filter((i) => i >= 0);
  return ends.length ? Math.min(...ends) : raw.length;
}
