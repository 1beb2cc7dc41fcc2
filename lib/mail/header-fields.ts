import { AppError } from '../errors';

export type THeaderField = {
  // As written, trailing whitespace trimmed ("Bcc :" is "Bcc"); compare with `key`.
  name: string;
  key: string;
  // The raw bytes after the first colon, folding (CRLF + WSP) still in place.
  value: Buffer;
  // Byte range of the whole field in the header block, continuation lines and line end included.
  start: number;
  end: number;
};

export type SplitHeaderFieldsOptions = { headerBlock: Buffer };

// RFC 5322 §2.2 field-name: printable US-ASCII except the colon.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

// The one reading of a header block that everything else relies on: the address fields parsed,
// and the Bcc fields stripped, are found by this splitter and no other. A field starts at a line
// that does not begin with space or tab; its name is the text before the first colon (trailing
// whitespace trimmed, so `Bcc :` and `Bcc\t:` are Bcc); folded lines belong to it.
export function splitHeaderFields({ headerBlock }: SplitHeaderFieldsOptions): THeaderField[] {
  const fields: Array<Omit<THeaderField, 'value'> & { valueStart: number }> = [];
  let offset = 0;
  while (offset < headerBlock.length) {
    const newline = headerBlock.indexOf(0x0a, offset);
    const lineEnd = newline < 0 ? headerBlock.length : newline + 1;
    const line = headerBlock.subarray(offset, lineEnd);
    // A bare CR is a line break to some parsers and not to others: a header hidden behind one.
    const cr = line.indexOf(0x0d);
    const isLineEnd = line[cr + 1] === 0x0a || (cr === line.length - 1 && lineEnd === headerBlock.length);
    if (cr >= 0 && (cr < line.length - 2 || !isLineEnd))
      throw new AppError('BAD_REQUEST', 'The message header holds a bare CR: the message header is malformed');
    const first = line[0];
    if (first === 0x20 || first === 0x09) {
      const last = fields[fields.length - 1];
      if (!last) throw new AppError('BAD_REQUEST', 'The message header starts with a continuation line, not a header field');
      last.end = lineEnd;
    } else {
      const colon = line.indexOf(0x3a);
      if (colon < 0) throw new AppError('BAD_REQUEST', `Header line ${fields.length + 1} has no colon: the message header is malformed`);
      const name = line
        .subarray(0, colon)
        .toString('latin1')
        .replace(/[ \t]+$/, '');
      if (!FIELD_NAME.test(name))
        throw new AppError(
          'BAD_REQUEST',
          'A header field name is empty or holds spaces or control characters: the message header is malformed',
        );
      fields.push({ name, key: name.toLowerCase(), valueStart: offset + colon + 1, start: offset, end: lineEnd });
    }
    offset = lineEnd;
  }
  return fields.map(({ valueStart, ...f }) => ({ ...f, value: headerBlock.subarray(valueStart, f.end) }));
}

export type StripHeaderFieldsOptions = { raw: Buffer; fields: THeaderField[]; key: string };

// The message with every field of that name removed (continuation lines included), every other
// byte exactly as it was.
export function stripHeaderFields({ raw, fields, key }: StripHeaderFieldsOptions): Buffer {
  const drop = fields.filter((f) => f.key === key);
  if (!drop.length) return raw;
  const parts: Buffer[] = [];
  let at = 0;
  for (const f of drop) {
    parts.push(raw.subarray(at, f.start));
    at = f.end;
    // The header block's last field ends before its line break: take that line break with it.
    if (raw[at - 1] !== 0x0a) at += raw[at] === 0x0d && raw[at + 1] === 0x0a ? 2 : raw[at] === 0x0a ? 1 : 0;
  }
  parts.push(raw.subarray(at));
  return Buffer.concat(parts);
}
