import libmime from 'libmime';
import { splitHeaderFields } from '../mail/header-fields';
import { findHeaderEnd } from '../mail/parse-message';
import { stripSubjectKeyword } from './match-word';

export type RemoveSubjectKeywordOptions = { raw: Buffer; keyword: string };

// The keyword that asked for encryption ("[secure]") is taken out of the sealed Subject, the rest
// of the message untouched. Encoded words are decoded, edited (stripSubjectKeyword, the same
// whole-word reading the rule matched with) and encoded again.
export function removeSubjectKeyword({ raw, keyword }: RemoveSubjectKeywordOptions): Buffer {
  if (!keyword.trim()) return raw;
  const blank = findHeaderEnd(raw);
  // The header block with its last line's end, so a Subject written last keeps its own line end.
  const headerBlock = raw.subarray(0, blank < raw.length ? blank + (raw[blank] === 0x0d ? 2 : 1) : blank);
  const field = splitHeaderFields({ headerBlock }).find((f) => f.key === 'subject');
  if (!field) return raw;
  const original = libmime.decodeWords(
    field.value
      .toString('utf8')
      .replace(/\r?\n[ \t]/g, ' ')
      .trim(),
  );
  const edited = stripSubjectKeyword({ subject: original, keyword: keyword.trim() });
  if (edited === original) return raw;
  const eol = headerBlock.includes('\r\n') ? '\r\n' : '\n';
  const value = /^[\x20-\x7e]*$/.test(edited) ? edited : libmime.encodeWords(edited, 'Q', 52);
  const line = Buffer.from(`${field.name}: ${value}${eol}`);
  return Buffer.concat([raw.subarray(0, field.start), line, raw.subarray(field.end)]);
}
