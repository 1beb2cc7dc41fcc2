import libmime from 'libmime';
import { AppError } from '../errors';
import { parseAddressList, type TAddressField, type TMailbox } from './address-list';
import { splitHeaderFields, stripHeaderFields, type THeaderField } from './header-fields';

// Headers larger than this are not a real message's; the body is never parsed when sealing.
const MAX_HEADER_BYTES = 256 * 1024;

export type TParsedRecipient = { address: string; kind: 'to' | 'cc' | 'bcc' };
export type TParsedMessage = {
  sender: string;
  senderName: string;
  subject: string;
  messageIdHeader: string | null;
  recipients: TParsedRecipient[];
  rejected: string[];
  // What is sealed: the original bytes, minus any Bcc header (Bcc recipients stay private).
  mime: Buffer;
};

export type ParseOutgoingMessageOptions = { raw: Buffer; maxBytes: number };

// Reads what sealing needs from the header block only, so the work is bounded by the header
// size whatever the body holds (deep HTML, huge parts, broken encodings).
export async function parseOutgoingMessage({ raw, maxBytes }: ParseOutgoingMessageOptions): Promise<TParsedMessage> {
  if (raw.length > maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The message is larger than the limit of ${maxBytes} bytes`);
  }
  if (raw.length === 0) throw new AppError('BAD_REQUEST', 'The message is empty');
  const headerEnd = findHeaderEnd(raw);
  if (headerEnd > MAX_HEADER_BYTES) throw new AppError('BAD_REQUEST', 'The message header block is too large');
  const headerBlock = raw.subarray(0, headerEnd);
  if (headerBlock.includes(0)) throw new AppError('BAD_REQUEST', 'The message header contains NUL bytes');

  const fields = splitHeaderFields({ headerBlock });
  const lists = {} as Record<TAddressField, TMailbox[] | null>;
  for (const field of ADDRESS_FIELDS) {
    const found = fields.filter((f) => f.key === field.toLowerCase());
    // Two To: fields are read as one list by some software and as the last one by others.
    if (found.length > 1)
      throw new AppError('INVALID_RECIPIENTS', `The ${field} header appears ${found.length} times; write it once`, { field });
    lists[field] = found[0] ? parseAddressList({ field, value: decodeFieldValue(found[0].value, field) }) : null;
  }
  if (!lists.From) throw new AppError('BAD_REQUEST', 'The message must have exactly one From address');
  const from = lists.From;
  if (from.length !== 1) throw new AppError('INVALID_RECIPIENTS', 'The From header must hold exactly one address', { field: 'From' });
  const sender = from[0]!.address;

  const subject = readFirstHeader({ fields, key: 'subject' });
  const messageIdHeader = readFirstHeader({ fields, key: 'message-id' });

  const recipients: TParsedRecipient[] = [];
  const seen = new Set<string>();
  for (const [kind, field] of [
    ['to', 'To'],
    ['cc', 'Cc'],
    ['bcc', 'Bcc'],
  ] as const) {
    for (const { address } of lists[field] ?? []) {
      if (!seen.has(address)) {
        seen.add(address);
        recipients.push({ address, kind });
      }
    }
  }
  return {
    sender,
    senderName: from[0]!.name.slice(0, 200),
    subject: (subject ?? '').slice(0, 998),
    messageIdHeader: messageIdHeader ? toMessageIdFormat(messageIdHeader) : null,
    recipients,
    // Kept for the API's shape: a list with any refused member is now refused whole.
    rejected: [],
    mime: stripHeaderFields({ raw, fields, key: 'bcc' }),
  };
}

export type RereadEditedSubjectOptions = { parsed: TParsedMessage; raw: Buffer };

// The strict reading of a copy of a parsed message whose Subject alone was edited (the relay takes
// the keyword that asked for encryption out of it): the address fields read from the original
// stand, only the subject and the Bcc-stripped bytes are read again. Parsing the copy whole read
// every address list a second time for each sealed relay message.
export function rereadEditedSubject({ parsed, raw }: RereadEditedSubjectOptions): TParsedMessage {
  const fields = splitHeaderFields({ headerBlock: raw.subarray(0, findHeaderEnd(raw)) });
  return {
    ...parsed,
    subject: (readFirstHeader({ fields, key: 'subject' }) ?? '').slice(0, 998),
    mime: stripHeaderFields({ raw, fields, key: 'bcc' }),
  };
}

const ADDRESS_FIELDS: TAddressField[] = ['From', 'To', 'Cc', 'Bcc', 'Reply-To'];

export type ReadFirstHeaderOptions = { fields: THeaderField[]; key: string };

// A single-valued header as mailparser reads it (the first non-empty occurrence, unfolded,
// UTF-8, encoded words decoded), without building a parser for the header block: that cost the
// relay half a millisecond a message. test/parse-message.test.ts holds the two readings equal
// over the MIME corpora.
export function readFirstHeader({ fields, key }: ReadFirstHeaderOptions): string | null {
  for (const field of fields) {
    if (field.key !== key) continue;
    const line = `${field.name}: ${field.value.toString('binary')}`;
    let value = Buffer.from((libmime.decodeHeader(line)?.value ?? '').toString().trim(), 'binary').toString();
    try {
      value = libmime.decodeWords(value);
    } catch {
      // Kept as written, as mailparser keeps it.
    }
    if (value) return value;
  }
  return null;
}

// mailparser's form of a Message-ID: in angle brackets.
const toMessageIdFormat = (value: string) => `${value.startsWith('<') ? '' : '<'}${value}${value.endsWith('>') ? '' : '>'}`;

// Address headers are UTF-8 (RFC 6532) or ASCII; other bytes are refused, not guessed at.
function decodeFieldValue(value: Buffer, field: TAddressField): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    throw new AppError('INVALID_RECIPIENTS', `The ${field} header is not valid UTF-8`, { field });
  }
}

// Offset of the blank line that ends the header block (CRLF or bare LF), or the whole message.
export function findHeaderEnd(raw: Buffer): number {
  const limit = Math.min(raw.length, MAX_HEADER_BYTES + 4);
  const window = raw.subarray(0, limit);
  const crlf = window.indexOf('\r\n\r\n');
  const lf = window.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  if (ends.length) return Math.min(...ends);
  return raw.length <= MAX_HEADER_BYTES ? raw.length : MAX_HEADER_BYTES + 1;
}
