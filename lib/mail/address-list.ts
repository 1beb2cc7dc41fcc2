import emailAddresses from 'email-addresses';
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { AppError } from '../errors';
import { normaliseAddress } from './address';

export type TAddressField = 'From' | 'To' | 'Cc' | 'Bcc' | 'Reply-To';
export type TMailbox = { address: string; name: string };

export type ParseAddressListOptions = { field: TAddressField; value: string };

// Invisible characters that make a list read one way on screen and another way to a parser.
const BIDI_OR_ZERO_WIDTH = /[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff]/;
// Controls other than the tab of folding whitespace: NUL, CR, LF (header injection), C1.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
// What a display name must not hold once decoded (and NFKC-folded, so `＠` counts as `@`):
// address syntax, which some parser will read as an address or a group.
const ADDRESS_SYNTAX = /[@:;<>]/;
// Bounds on the work one header may cause; far above any real list (the recipient cap is lower).
const MAX_ENTRIES = 1000;
const MAX_ENTRY_CHARS = 500;
const ENCODED_WORD = /=\?[^?]*\?[bq]\?[^?]*\?=/i;
// AST nodes a strict reading may produce that we still refuse: each is read differently by
// different parsers (comments become names, quoted-pairs end strings early, literals are IPs).
const REFUSED_NODES = new Set(['comment', 'quoted-pair', 'domain-literal', 'obs-qp']);

// The one reading of an address header (From, To, Cc, Bcc, Reply-To). A list is accepted only
// when a strict RFC 5322 parser and mailparser's lenient one agree on it exactly and each member
// is a plain mailbox our normaliser accepts; anything else is refused whole, never repaired.
// Stops the interpretation-conflict class (nodemailer GHSA-mm7p-fcc7-pg87, CVE-2023-27043):
// `To: a@bank.example, Bcc: x@evil.example` or `a@x.com evil: b@y.com` read as groups.
export function parseAddressList({ field, value }: ParseAddressListOptions): TMailbox[] {
  const refuse: (why: string) => never = (why) => {
    throw new AppError(
      'INVALID_RECIPIENTS',
      `The ${field} header is refused: ${why}. Write each address as name@domain or "Display Name" <name@domain>, separated by commas.`,
      { field },
    );
  };
  // Unfold (RFC 5322 §2.2.3); any CR or LF left after that is an injected line.
  const text = value.replace(/\r?\n(?=[ \t])/g, '').trim();
  if (CONTROL.test(text)) refuse('it holds a control character (NUL, CR or LF)');
  if (BIDI_OR_ZERO_WIDTH.test(text)) refuse('it holds an invisible bidirectional or zero-width character');
  if (!text) refuse('it is empty');

  // The strict grammar parser backtracks: given a whole 256 KB header it takes tens of seconds.
  // Comments and quoted-pairs are refused anyway, so the list splits at the commas outside quoted
  // strings, and each entry, bounded in length and number, is parsed on its own; an entry that
  // is not one whole address (a group's member list, stray text) fails as the whole list would.
  const entries = splitEntries(text);
  if (!entries) refuse('it holds a comment, an escaped character or an unclosed quote');
  if (entries.length > MAX_ENTRIES) refuse(`it holds more than ${MAX_ENTRIES} entries`);
  const strict = entries.map((entry) => {
    if (entry.length > MAX_ENTRY_CHARS) refuse(`an entry is longer than ${MAX_ENTRY_CHARS} characters`);
    const parsed = readStrict(entry);
    if (!parsed) refuse('it is not a list of addresses (stray text, a stray "<", ">", ";" or ":", or a header name inside it)');
    if (hasNode(parsed.ast, REFUSED_NODES)) refuse('it holds a comment, an escaped character or an IP address literal');
    return parsed.addresses[0]!;
  });

  const mailboxes: TMailbox[] = [];
  for (const entry of strict) {
    if (entry.type === 'group') {
      // An empty group (`undisclosed-recipients:;`) names nobody and is harmless; one with
      // members is how text after a colon became a recipient.
      if (entry.addresses.length) refuse(`it holds a group ("${entry.name}: …;"), which is not accepted`);
      continue;
    }
    if (hasNode(entry.parts.local, new Set(['quoted-string']))) refuse('an address has a quoted local part');
    if (entry.address.includes('=?')) refuse('an address looks like an encoded-word');
    const address = normaliseAddress(entry.address);
    if (!address) refuse(`"${entry.address.slice(0, 100)}" is not a deliverable email address`);
    const name = entry.name === null ? '' : decodeName(entry.name);
    if (CONTROL.test(name) || BIDI_OR_ZERO_WIDTH.test(name)) refuse('a display name decodes to control or invisible characters');
    const folded = name.normalize('NFKC');
    if (ADDRESS_SYNTAX.test(folded)) refuse('a display name holds address syntax (@ : ; < >)');
    if (/[",]/.test(folded) && ENCODED_WORD.test(entry.name ?? '')) refuse('an encoded display name decodes to list syntax');
    mailboxes.push({ address, name });
  }

  // The lenient reading (what mailparser and most mail software would do) must name exactly the
  // same addresses, in the same order; if not, the text means different things to different readers.
  const lenient = addressparser(text, { flatten: true }).map((m) => m.address);
  const strictAddresses = strict.flatMap((a) => (a.type === 'group' ? a.addresses.map((m) => m.address) : [a.address]));
  if (lenient.length !== strictAddresses.length || lenient.some((a, i) => a !== strictAddresses[i])) {
    refuse('it can be read as more than one list of recipients');
  }
  return mailboxes;
}

// The list's entries: text between commas outside quoted strings. Null when the text holds a
// backslash, a parenthesis outside quotes (a comment) or an unclosed quote.
function splitEntries(text: string): string[] | null {
  const entries: string[] = [];
  let isQuoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\') return null;
    if (c === '"') isQuoted = !isQuoted;
    else if (!isQuoted && (c === '(' || c === ')')) return null;
    else if (!isQuoted && c === ',') {
      entries.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (isQuoted) return null;
  entries.push(text.slice(start));
  return entries;
}

// The grammar parser costs about a third of a millisecond per address; a relay sees the same
// From and To entries again and again. Its results are read, never changed, so they are kept
// (by entry text, least recently used out first).
const STRICT_CACHE_SIZE = 2000;
const strictCache = new Map<string, ReturnType<typeof parseStrict>>();

function readStrict(input: string) {
  if (strictCache.has(input)) {
    const cached = strictCache.get(input)!;
    strictCache.delete(input);
    strictCache.set(input, cached);
    return cached;
  }
  const parsed = parseStrict(input);
  strictCache.set(input, parsed);
  if (strictCache.size > STRICT_CACHE_SIZE) strictCache.delete(strictCache.keys().next().value!);
  return parsed;
}

function parseStrict(input: string) {
  try {
    const parsed = emailAddresses({ input, rfc6532: true, strict: true, startAt: 'address' });
    return parsed?.addresses.length === 1 ? parsed : null;
  } catch {
    // Deep nesting overflows the parser's recursion: not an address list either way.
    return null;
  }
}

function decodeName(name: string): string {
  if (!ENCODED_WORD.test(name)) return name;
  try {
    return libmime.decodeWords(name);
  } catch {
    return name;
  }
}

type TNode = { name: string; children: TNode[] };

function hasNode(node: TNode, names: Set<string>): boolean {
  return names.has(node.name) || node.children.some((c) => hasNode(c, names));
}
