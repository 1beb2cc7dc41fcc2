import libmime from 'libmime';
import { splitHeaderFields } from '../mail/header-fields';

export type RemoveSubjectKeywordOptions = { raw: Buffer; headerEnd: number; keyword: string };

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The keyword that asked for encryption ("[secure]") is taken out of the sealed Subject, the rest
// of the message untouched. Encoded words are decoded, edited and encoded again.
export function removeSubjectKeyword({ raw, headerEnd, keyword }: RemoveSubjectKeywordOptions): Buffer {
  const headerBlock = raw.subarray(0, headerEnd);
  const field = splitHeaderFields({ headerBlock }).find((f) => f.key === 'subject');
  if (!field || !keyword.trim()) return raw;
  const original = libmime.decodeWords(field.value.toString('utf8').replace(/\r?\n[ \t]/g, ' ').trim());
  const pattern = new RegExp(`(^|\\s)${escapeRegExp(keyword.trim())}(?=\\s|$)`, 'gi');
  const edited = original.replace(pattern, ' ').replace(/\s{2,}/g, ' ').trim();
  if (edited === original) return raw;
  const eol = headerBlock.includes('\r\n') ? '\r\n' : '\n';
  const value = /^[\x20-\x7e]*$/.test(edited) ? edited : libmime.encodeWords(edited, 'Q', 52);
  const line = Buffer.from(`${field.name}: ${value}${eol}`);
  return Buffer.concat([raw.subarray(0, field.start), line, raw.subarray(field.end)]);
}
