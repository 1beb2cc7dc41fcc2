import crypto from 'node:crypto';
import libmime from 'libmime';
import { AppError } from '../errors';
import { splitHeaderFields, type THeaderField } from '../mail/header-fields';

export type TSplitMessage = {
  // The message's own fields (From, To, Subject, Date, Message-ID…), as written.
  outer: Buffer[];
  // The MIME entity S/MIME protects: the Content-* fields and the body (RFC 8551 §3.1).
  entity: Buffer;
  contentType: { value: string; params: Record<string, string> };
};

export type SplitMessageOptions = { raw: Buffer };

// Lines end in CRLF (RFC 8551 §3.1.1, canonical form). nodemailer's MailComposer keeps a text
// part's bare LFs and leaves them to the SMTP transport, which would change the bytes after they
// were signed.
export function toCanonicalLines(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  return /(?<!\r)\n/.test(text) ? Buffer.from(text.replace(/(?<!\r)\n/g, '\r\n'), 'latin1') : raw;
}

// A message as its outer fields and its MIME entity, in canonical form. MIME-Version goes (the
// joined message writes its own); a message without Content-Type is text/plain (RFC 2045 §5.2).
export function splitMessage({ raw: input }: SplitMessageOptions): TSplitMessage {
  const raw = toCanonicalLines(input);
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new AppError('BAD_REQUEST', 'The message has no header/body separator (an empty line with CRLF)');
  const headerBlock = raw.subarray(0, end + 2);
  const fields = splitHeaderFields({ headerBlock });
  const isContent = (f: THeaderField) => f.key.startsWith('content-');
  const content = fields.filter(isContent).map((f) => headerBlock.subarray(f.start, f.end));
  const outer = fields.filter((f) => !isContent(f) && f.key !== 'mime-version').map((f) => headerBlock.subarray(f.start, f.end));
  const entityHead = content.length ? Buffer.concat(content) : Buffer.from('Content-Type: text/plain; charset=us-ascii\r\n');
  return {
    outer,
    entity: Buffer.concat([entityHead, Buffer.from('\r\n'), raw.subarray(end + 4)]),
    contentType: readContentType(fields),
  };
}

export type ReadMessageContentTypeOptions = { raw: Buffer };

// The top-level Content-Type of a message, from its header alone (the body is not touched).
export function readMessageContentType({ raw }: ReadMessageContentTypeOptions) {
  const end = raw.indexOf('\r\n\r\n');
  return readContentType(splitHeaderFields({ headerBlock: raw.subarray(0, end < 0 ? Math.min(raw.length, 64 * 1024) : end + 2) }));
}

export type JoinMessageOptions = { outer: Buffer[]; entity: Buffer };

export const joinMessage = ({ outer, entity }: JoinMessageOptions): Buffer =>
  Buffer.concat([...outer, Buffer.from('MIME-Version: 1.0\r\n'), entity]);

export const newBoundary = () => `----=_smime_${crypto.randomBytes(12).toString('hex')}`;

// Base64 in lines of 76 characters, CRLF after each (RFC 2045 §6.8). Copied line by line into
// one buffer: a regular expression over a 35 MB string took half a second.
export function base64Lines(bytes: Uint8Array): string {
  const text = Buffer.from(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), 'latin1');
  const lines = Math.ceil(text.length / 76);
  const out = Buffer.allocUnsafe(text.length + lines * 2);
  let at = 0;
  for (let i = 0; i < text.length; i += 76) {
    at += text.copy(out, at, i, Math.min(i + 76, text.length));
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  return out.toString('latin1', 0, at);
}

export type TMultipartParts = { parts: Buffer[] };

export type SplitMultipartOptions = { body: Buffer; boundary: string; maxParts: number };

// The parts of a multipart body, each exactly the bytes between its delimiter line's CRLF and the
// CRLF before the next delimiter (RFC 2046 §5.1.1: that CRLF belongs to the delimiter). The bytes
// of the signed part must be these and no others, so no MIME parser that rewrites them is used.
export function splitMultipart({ body, boundary, maxParts }: SplitMultipartOptions): Buffer[] {
  if (!boundary || boundary.length > 200) throw new AppError('BAD_REQUEST', 'The multipart boundary is missing or too long');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.subarray(0, delimiter.length).equals(delimiter) ? 0 : body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]));
  if (at < 0) throw new AppError('BAD_REQUEST', 'The multipart body has no delimiter line for its boundary');
  if (at > 0) at += 2;
  for (;;) {
    const afterDelimiter = at + delimiter.length;
    if (body[afterDelimiter] === 0x2d && body[afterDelimiter + 1] === 0x2d) return parts;
    const lineEnd = body.indexOf('\r\n', afterDelimiter);
    if (lineEnd < 0) throw new AppError('BAD_REQUEST', 'The multipart body is truncated after a delimiter line');
    const start = lineEnd + 2;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start - 2);
    if (next < 0) throw new AppError('BAD_REQUEST', 'The multipart body is truncated: its closing delimiter is missing');
    parts.push(body.subarray(start, Math.max(start, next)));
    if (parts.length > maxParts) throw new AppError('BAD_REQUEST', `The multipart body has more than ${maxParts} parts`);
    at = next + 2;
  }
}

export type SplitEntityOptions = { entity: Buffer };

// An entity's header fields (parsed) and its body.
export function splitEntity({ entity }: SplitEntityOptions): { fields: THeaderField[]; headerBlock: Buffer; body: Buffer } {
  const isHeaderless = entity.subarray(0, 2).toString() === '\r\n';
  const end = isHeaderless ? -2 : entity.indexOf('\r\n\r\n');
  if (end === -1) throw new AppError('BAD_REQUEST', 'The MIME part has no header/body separator');
  const headerBlock = isHeaderless ? Buffer.alloc(0) : entity.subarray(0, end + 2);
  return { fields: splitHeaderFields({ headerBlock }), headerBlock, body: entity.subarray(end + 4) };
}

export function readContentType(fields: THeaderField[]): { value: string; params: Record<string, string> } {
  const field = fields.find((f) => f.key === 'content-type');
  const parsed = libmime.parseHeaderValue(field ? field.value.toString('latin1').replace(/\r\n[ \t]/g, ' ') : 'text/plain');
  return { value: parsed.value.toLowerCase().trim(), params: parsed.params as Record<string, string> };
}
