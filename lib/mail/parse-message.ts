import { simpleParser, type AddressObject } from 'mailparser';
import { AppError } from '../errors';
import { normaliseAddress } from './address';

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

  const parsed = await simpleParser(Buffer.concat([headerBlock, Buffer.from('\r\n\r\n')]), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
  });
  const from = listAddresses(parsed.from);
  if (from.length !== 1) throw new AppError('BAD_REQUEST', 'The message must have exactly one From address');
  const sender = normaliseAddress(from[0]?.address);
  if (!sender) throw new AppError('BAD_REQUEST', 'The From address is not a valid email address');

  const recipients: TParsedRecipient[] = [];
  const rejected: string[] = [];
  const seen = new Set<string>();
  for (const [kind, field] of [['to', parsed.to], ['cc', parsed.cc], ['bcc', parsed.bcc]] as const) {
    for (const entry of listAddresses(field)) {
      const address = normaliseAddress(entry.address);
      if (!address) {
        rejected.push(String(entry.address ?? entry.name ?? '').slice(0, 320));
      } else if (!seen.has(address)) {
        seen.add(address);
        recipients.push({ address, kind });
      }
    }
  }
  return {
    sender,
    senderName: (from[0]?.name ?? '').slice(0, 200),
    subject: (parsed.subject ?? '').slice(0, 998),
    messageIdHeader: parsed.messageId ?? null,
    recipients,
    rejected,
    mime: parsed.bcc ? stripHeader(raw, headerEnd, 'bcc') : raw,
  };
}

type TAddressEntry = { address?: string; name?: string };

function listAddresses(field: AddressObject | AddressObject[] | undefined): TAddressEntry[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  const out: TAddressEntry[] = [];
  const walk = (entries: Array<{ address?: string; name?: string; group?: unknown[] }>) => {
    for (const e of entries) {
      if (Array.isArray(e.group)) walk(e.group as typeof entries);
      else out.push({ address: e.address, name: e.name });
    }
  };
  for (const o of objects) walk(o.value);
  return out;
}

// Offset of the blank line that ends the header block (CRLF or bare LF), or the whole message.
function findHeaderEnd(raw: Buffer): number {
  const limit = Math.min(raw.length, MAX_HEADER_BYTES + 4);
  const window = raw.subarray(0, limit);
  const crlf = window.indexOf('\r\n\r\n');
  const lf = window.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  if (ends.length) return Math.min(...ends);
  return raw.length <= MAX_HEADER_BYTES ? raw.length : MAX_HEADER_BYTES + 1;
}

// Drops every line of the named header (with its folded continuation lines) from the header
// block, leaving every other byte of the message exactly as it was.
function stripHeader(raw: Buffer, headerEnd: number, name: string): Buffer {
  const lines = raw.subarray(0, headerEnd).toString('latin1').split(/(?<=\n)/);
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    const isContinuation = /^[ \t]/.test(line);
    if (!isContinuation) dropping = line.toLowerCase().startsWith(`${name}:`);
    if (!dropping) kept.push(line);
  }
  return Buffer.concat([Buffer.from(kept.join(''), 'latin1'), raw.subarray(headerEnd)]);
}
