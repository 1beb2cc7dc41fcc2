// "Contains the word W": W appears, in any case, where no letter, digit, mark or underscore
// continues it on either side. So `encrypt` matches "Please encrypt:" but not "encrypted", and
// `[secure]` matches "[SECURE] Statement" and "Re:[secure]" but not "x[secure]y".
const WORD_CHAR = '[\\p{L}\\p{N}\\p{M}_]';

// Only the pattern's syntax characters are escaped: with the `u` flag any other escape is an
// error. The word is a literal, never a pattern: a rule cannot smuggle in a regex (ReDoS).
const escapeLiteral = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

const cache = new Map<string, RegExp>();

function wordPattern(word: string, flags: 'iu' | 'giu'): RegExp {
  const key = `${flags}\u0000${word}`;
  let re = cache.get(key);
  if (!re) {
    if (cache.size >= 2000) cache.clear();
    re = new RegExp(`(?<!${WORD_CHAR})${escapeLiteral(word)}(?!${WORD_CHAR})`, flags);
    cache.set(key, re);
  }
  re.lastIndex = 0;
  return re;
}

export type FindWordOptions = { text: string; words: readonly string[] };

// The first of `words` that `text` contains as a whole word, or null.
export function findWord({ text, words }: FindWordOptions): string | null {
  for (const word of words) if (wordPattern(word, 'iu').test(text)) return word;
  return null;
}

export type StripSubjectKeywordOptions = { subject: string; keyword: string };

// A separator written after the keyword ("Secure: …", "secure - …") or, at the end, before it
// ("… | secure"): it goes with the keyword, or the recipient would see ": Statement".
const CUT = '\u0000';
const SEPARATOR_AFTER = new RegExp(`${CUT}[ \\t]*[:|\u2013\u2014-](?=[ \\t]|$)`, 'g');
const SEPARATOR_BEFORE_END = new RegExp(`(?<=^|[ \\t])[:|\u2013\u2014-][ \\t]*${CUT}[ \\t]*$`);

// The subject without the keyword that triggered encryption (every whole-word occurrence, any
// case), with a separator that went with it, spaces around it collapsed: "Re: [secure] Statement"
// → "Re: Statement", "Secure: Statement" → "Statement".
export function stripSubjectKeyword({ subject, keyword }: StripSubjectKeywordOptions): string {
  return subject
    .replaceAll(CUT, '')
    .replace(wordPattern(keyword, 'giu'), CUT)
    .replace(SEPARATOR_AFTER, CUT)
    .replace(SEPARATOR_BEFORE_END, CUT)
    .replaceAll(CUT, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}
