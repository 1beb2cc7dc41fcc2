// Address lists for the strict-parsing tests (test/address-list.test.ts) and the delivery test
// (test/address-delivery.test.ts). Each row is the recipient header lines of a message sent as
// alice@acme.example, and either the exact recipients Sealpost must deliver to (To, then Cc,
// then Bcc, duplicates dropped) or the refusal: the header field named in a 422, or a 400.
//
// Sources: nodemailer GHSA-mm7p-fcc7-pg87 (a quoted local part or display name holding `@` or a
// `name:` token read as another address or a group), Python CVE-2023-27043 (parseaddr and
// getaddresses misreading `alice@example.org)<bob@example.org>` and friends), the fixes behind
// `email-addresses` (atInDisplayName, commaInDisplayName) and nodemailer's addressparser (nested
// groups, GHSA-rcmh-qjqh-p98v), and our own: bidi and zero-width characters, encoded-words that
// decode to address syntax, comments, stray text, folding, `Bcc :` variants, lookalikes.

export type TRefusal = { refuse: 'From' | 'To' | 'Cc' | 'Bcc' | 'Reply-To' | 400 };
export type TExpected = string[] | TRefusal;
export type TAddressRow = {
  name: string;
  headers: string;
  expected: TExpected;
  // A Bcc recipient: the sealed MIME must carry no Bcc header, and this address gets a wrapper.
  bcc?: string;
};

const R = (refuse: TRefusal['refuse']): TRefusal => ({ refuse });
const to = (value: string, expected: TExpected, name = value): TAddressRow => ({ name: `To: ${name}`, headers: `To: ${value}`, expected });
const esc = (s: string) =>
  s.replace(
    /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
const toEsc = (value: string, expected: TExpected): TAddressRow => to(value, expected, esc(value));

const A = 'alice@bank.example';
const M = 'mallory@evil.example';

const INVISIBLE = [
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2060',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u061c',
  '\ufeff',
];

export const HOSTILE: TAddressRow[] = [
  // nodemailer GHSA-mm7p-fcc7-pg87: a quoted local part or display name with `@` chose the recipient.
  to('"xclow3n@gmail.com x"@internal.domain', R('To')),
  to(`"${M} x"@bank.example`, R('To')),
  to(`"${M}"@bank.example`, R('To')),
  to('"a@b.com"@evil.com', R('To')),
  to(`"${A}" <${M}>`, R('To')),
  to(`${A} <${M}>`, R('To')),
  to(`"Alice <${A}>" <${M}>`, R('To')),
  to(`"${A}, Bcc" <${M}>`, R('To')),
  to(`"Bcc: ${M}" <${A}>`, R('To')),
  to(`Alice <${A}>, "Bcc: ${M}" <carol@yahoo.com>`, R('To')),
  // The review's case and its family: a header-like `name:` turns the rest into a group.
  to(`bob@gmail.com evil: carol@x.com`, R('To')),
  to(`${A}, Bcc: ${M}`, R('To')),
  to(`${A},Bcc:${M}`, R('To')),
  to(`${A}, Cc: ${M};`, R('To')),
  to(`${A} Bcc: ${M}`, R('To')),
  to(`Bcc: ${M}`, R('To')),
  to(`To: ${M}`, R('To')),
  to(`${A}, To: ${M};`, R('To')),
  to(`mailto:${A}`, R('To')),
  to(`${A}:${M}`, R('To')),
  to(`Alice: <${A}>;`, R('To')),
  // Groups with members, nested groups (addressparser's recursion fix), a group after stray text.
  to(`group: ${A};`, R('To')),
  to(`group: ${A}, ${M};`, R('To')),
  to(`g1: g2: ${A};;`, R('To')),
  to(`g1: ${A}; g2: ${M};`, R('To')),
  to(`${'g:'.repeat(60)}${A}${';'.repeat(60)}`, R('To'), 'g: × 60 nested groups'),
  to(`undisclosed-recipients:; ${M}`, R('To')),
  to(`undisclosed-recipients: ${M}`, R('To')),
  to(':;', R('To')),
  to('g:;;', R('To')),
  to('g: (comment) ;', R('To')),
  // CVE-2023-27043: Python's parseaddr/getaddresses read these as another address.
  to('alice@example.org)<bob@example.org>', R('To')),
  to('alice@example.org]<bob@example.org>', R('To')),
  to('alice@example.org><bob@example.org>', R('To')),
  to('alice@example.org"<bob@example.org>', R('To')),
  to('"alice@example.org""<bob@example.org>"', R('To')),
  to('alice@example.org>bob@example.org', R('To')),
  to('alice@example.org, "bob@example.org', R('To')),
  to('"Alice" alice@example.org <bob@example.org>', R('To')),
  // email-addresses' atInDisplayName / commaInDisplayName: unquoted specials in a name.
  to(`Bob@Example <${A}>`, R('To')),
  to(`Bob, Smith <${A}>`, R('To')),
  to(`Smith, Bob <${A}>, ${M}`, R('To')),
  to(`J. Smith <${A}>`, R('To')),
  // Comments: a name to one parser, nothing (or an address) to another.
  to(`${A} (${M})`, R('To')),
  to(`(${M}) ${A}`, R('To')),
  to(`alice(comment)@bank.example`, R('To')),
  to(`alice@(comment)bank.example`, R('To')),
  to(`Alice (x) <${A}>`, R('To')),
  to(`${A} (Bcc: ${M})`, R('To')),
  to(`<${A}> (comment)`, R('To')),
  // Stray text between or around mailboxes, and separators other than a comma.
  to(`${A} ${M}`, R('To')),
  to(`${A}; ${M}`, R('To')),
  to(`${A};${M}`, R('To')),
  to(`<${A}> ${M}`, R('To')),
  to(`Alice <${A}> <${M}>`, R('To')),
  to(`Alice <${A}>${M}`, R('To')),
  to(`${A} hello`, R('To')),
  to(`hello ${A}`, R('To')),
  to(`${A}, , ${M}`, R('To')),
  to(`,${A}`, R('To')),
  to(`${A},`, R('To')),
  to(`${A},,`, R('To')),
  to(`${A}, "${M}"`, R('To')),
  to(`"${A}"`, R('To')),
  to('Alice', R('To')),
  to('<>', R('To')),
  to('Alice <>', R('To')),
  to('@bank.example', R('To')),
  to('alice@', R('To')),
  to(' ', R('To'), '(empty)'),
  // Stray or unbalanced angle brackets.
  to(`${A}>`, R('To')),
  to(`<${A}`, R('To')),
  to(`${A}<`, R('To')),
  to(`<<${A}>>`, R('To')),
  to(`<${A}>>`, R('To')),
  to(`Alice <${A}`, R('To')),
  to(`Alice ${A}>`, R('To')),
  // Route syntax (obs-route) and quoted local parts.
  to(`<@evil.example:${A}>`, R('To')),
  to(`<@a.example,@b.example:${A}>`, R('To')),
  to('"alice"@bank.example', R('To')),
  to('"alice bob"@bank.example', R('To')),
  to(`"alice,mallory"@bank.example`, R('To')),
  to(`"${A},mallory"@evil.example`, R('To')),
  // Quoted-pair escapes: where a quoted string ends depends on who reads it.
  to(`"Alice\\" <${M}>" <${A}>`, R('To')),
  to(`"Alice\\\\"<${M}>`, R('To')),
  to(`"\\"" <${A}>`, R('To')),
  to(`"a\\@b" <${A}>`, R('To')),
  to(`alice\\@bank.example@evil.example`, R('To')),
  // Encoded-words (RFC 2047) that decode to address or list syntax, or sit in the address.
  to(`=?utf-8?B?bWFsbG9yeUBldmlsLmV4YW1wbGU=?= <${A}>`, R('To'), '=?utf-8?B?(mallory@evil.example)?= <alice@bank.example>'),
  to(`=?utf-8?B?PG1hbGxvcnlAZXZpbC5leGFtcGxlPg==?= <${A}>`, R('To'), '=?utf-8?B?(<mallory@evil.example>)?= <alice@bank.example>'),
  to(`=?utf-8?Q?mallory=40evil.example?= <${A}>`, R('To')),
  to(`=?utf-8?Q?Bcc=3A_mallory?= <${A}>`, R('To')),
  to(`=?utf-8?Q?a=2C_b?= <${A}>`, R('To')),
  to(`=?utf-8?Q?=22x=22?= <${A}>`, R('To')),
  to(`=?utf-8?Q?x=3B?= <${A}>`, R('To')),
  to(`=?utf-8?Q?=EF=BC=A0?= <${A}>`, R('To'), '=?utf-8?Q?(＠)?= <alice@bank.example>'),
  to(`=?utf-8?Q?Alice=E2=80=AE?= <${A}>`, R('To'), '=?utf-8?Q?Alice(U+202E)?= <alice@bank.example>'),
  to(`=?utf-8?Q?Alice=0D=0ABcc=3A_x?= <${A}>`, R('To'), '=?utf-8?Q?Alice(CRLF)Bcc:_x?= <alice@bank.example>'),
  to(`=?utf-8?Q?A=00?= <${A}>`, R('To'), '=?utf-8?Q?A(NUL)?= <alice@bank.example>'),
  to(`=?utf-8?B?bWFsbG9yeUBldmlsLmV4YW1wbGU=?=@bank.example`, R('To')),
  to(`=?utf-8?Q?mallory?=@evil.example`, R('To')),
  to(`alice@=?utf-8?q?evil?=.example`, R('To')),
  to(`=?utf-8?Q?alice=40bank.example?=`, R('To')),
  // Unicode lookalikes of the specials.
  to('alice＠bank.example', R('To')),
  to(`"alice＠bank.example" <${M}>`, R('To')),
  to(`${A}＞`, R('To')),
  to(`＜${M}＞`, R('To')),
  to(`Alice＜${A}＞`, R('To')),
  to(`Alice：<${A}>`, R('To')),
  // Bidi and zero-width characters, in the address, the name, and between mailboxes.
  ...INVISIBLE.map((c) => toEsc(`ali${c}ce@bank.example`, R('To'))),
  toEsc(`Alice\u200b <${A}>`, R('To')),
  toEsc(`${A}, \u2066${M}\u2069`, R('To')),
  toEsc(`\u202eelpmaxe.live@yrollam`, R('To')),
  toEsc(`"Alice\u202e" <${A}>`, R('To')),
  // Controls: a tab between addresses, a bare CR (a line break to some parsers), NUL.
  toEsc(`${A}\t${M}`, R('To')),
  toEsc(`${A}\rBcc: ${M}`, R(400)),
  toEsc(`${A}\u0000`, R(400)),
  toEsc(`"Ali\u0001ce" <${A}>`, R('To')),
  // Addresses the strict normaliser refuses: one bad member refuses the whole list.
  to(`${A}, alice@[127.0.0.1]`, R('To')),
  to('alice@[IPv6:::1]', R('To')),
  to(`Alice <alice@[10.0.0.1]>`, R('To')),
  to('alice@127.0.0.1', R('To')),
  to(`${A}, bob@localhost`, R('To')),
  to('alice@bank', R('To')),
  to('alice@bank.example.', R('To')),
  to('alice@-bank.example', R('To')),
  to('alice..b@bank.example', R('To')),
  to('.alice@bank.example', R('To')),
  to('álice@bank.example', R('To')),
  to(`${'a'.repeat(65)}@bank.example`, R('To'), 'a × 65 @bank.example'),
  to('alice@bank.example!mallory', R('To')),
  // Folding: a continuation line belongs to its field; `Bcc:` folded into To is not a header.
  { name: 'To folded, then " Bcc: …" on the continuation line', headers: `To: ${A}\r\n Bcc: ${M}`, expected: R('To') },
  { name: 'To folded, then "\\tBcc: …" on the continuation line', headers: `To: ${A}\r\n\tBcc: ${M}`, expected: R('To') },
  { name: 'To folded between two addresses', headers: `To: ${A},\r\n ${M}`, expected: [A, M] },
  { name: 'To with its value on the continuation line', headers: `To:\r\n ${A}`, expected: [A] },
  // A header field named twice is read as one list by some software and the last one by others.
  { name: 'two To fields', headers: `To: ${A}\r\nTo: ${M}`, expected: R('To') },
  { name: 'To and to', headers: `To: ${A}\r\nto: ${M}`, expected: R('To') },
  { name: 'two Cc fields', headers: `To: ${A}\r\nCc: carol@yahoo.com\r\nCc: ${M}`, expected: R('Cc') },
  { name: 'Bcc and "Bcc :"', headers: `To: ${A}\r\nBcc: carol@yahoo.com\r\nBcc : ${M}`, expected: R('Bcc') },
  { name: 'two From fields', headers: `From: alice@acme.example\r\nFrom: ${M}\r\nTo: ${A}`, expected: R('From') },
  { name: 'two Reply-To fields', headers: `To: ${A}\r\nReply-To: a@acme.example\r\nReply-To: ${M}`, expected: R('Reply-To') },
  // Lines that are not header fields.
  { name: 'a header line without a colon', headers: `To ${A}\r\nCc: carol@yahoo.com`, expected: R(400) },
  { name: 'a header name with a space in it', headers: `To: ${A}\r\nX Bcc: ${M}`, expected: R(400) },
  { name: '"To x:" is not To', headers: `To x: ${M}\r\nCc: ${A}`, expected: R(400) },
  // Bcc written every way RFC 5322 allows: a recipient, and gone from the sealed message.
  { name: 'Bcc:', headers: `To: ${A}\r\nBcc: ${M}`, expected: [A, M], bcc: M },
  { name: 'Bcc : (space before the colon)', headers: `To: ${A}\r\nBcc : ${M}`, expected: [A, M], bcc: M },
  { name: 'Bcc\\t: (tab before the colon)', headers: `To: ${A}\r\nBcc\t: ${M}`, expected: [A, M], bcc: M },
  { name: 'BCC: in capitals', headers: `To: ${A}\r\nBCC: ${M}`, expected: [A, M], bcc: M },
  { name: 'bCc  \\t : mixed case and whitespace', headers: `To: ${A}\r\nbCc  \t : ${M}`, expected: [A, M], bcc: M },
  { name: 'Bcc folded onto a continuation line', headers: `To: ${A}\r\nBcc:\r\n ${M}`, expected: [A, M], bcc: M },
  {
    name: 'Bcc as the first header',
    headers: `Bcc: ${M}\r\nFrom: Alice Example <alice@acme.example>\r\nTo: ${A}`,
    expected: [A, M],
    bcc: M,
  },
  { name: 'Bcc between other headers', headers: `Bcc: ${M}\r\nTo: ${A}`, expected: [A, M], bcc: M },
  {
    name: 'Bcc with a long folded list',
    headers: `To: ${A}\r\nBcc: ${M},\r\n carol@yahoo.com,\r\n\tdave@example.org`,
    expected: [A, M, 'carol@yahoo.com', 'dave@example.org'],
    bcc: M,
  },
  { name: 'Bcc only', headers: `Bcc: ${M}`, expected: [M], bcc: M },
  { name: 'Bcc with a hostile list', headers: `To: ${A}\r\nBcc: ${A} evil: ${M}`, expected: R('Bcc') },
  // The other recipient and address fields take the same rule.
  { name: 'Cc with a group', headers: `To: ${A}\r\nCc: carol@yahoo.com, Bcc: ${M}`, expected: R('Cc') },
  { name: 'Reply-To with a group', headers: `To: ${A}\r\nReply-To: a@acme.example evil: ${M}`, expected: R('Reply-To') },
  { name: 'From with two mailboxes', headers: `From: alice@acme.example, bob@acme.example\r\nTo: ${A}`, expected: R('From') },
  { name: 'From with a group', headers: `From: Alice <alice@acme.example>, Bcc: ${M}\r\nTo: ${A}`, expected: R('From') },
  { name: 'From as an empty group', headers: `From: undisclosed:;\r\nTo: ${A}`, expected: R('From') },
  { name: 'From with an address for a name', headers: `From: "bob@gmail.com" <alice@acme.example>\r\nTo: ${A}`, expected: R('From') },
  // Written strangely but meaning exactly one thing: delivered to exactly that.
  to(`mallory%evil.example@bank.example`, ['mallory%evil.example@bank.example']),
  to(`evil.example!mallory@bank.example`, ['evil.example!mallory@bank.example']),
  to('alice@bank．example', [A], 'alice@bank(U+FF0E fullwidth dot)example'),
  to('alice@bаnk.example', ['alice@xn--bnk-6cd.example'], 'alice@b(Cyrillic а)nk.example'),
  to(`${A}, ALICE@BANK.EXAMPLE`, [A]),
  to(`undisclosed-recipients:;`, [], 'undisclosed-recipients:; (no recipient at all: refused as NO_VALID_RECIPIENT)'),
];

export const LEGITIMATE: TAddressRow[] = [
  to(A, [A]),
  to(`<${A}>`, [A]),
  to(`Alice <${A}>`, [A]),
  to(`Alice Example <${A}>`, [A]),
  to(`"Alice Example" <${A}>`, [A]),
  to(`"Example, Alice" <${A}>`, [A]),
  to(`"Alice (Bank)" <${A}>`, [A]),
  to(`"J. Smith" <${A}>`, [A]),
  to(`${A}, carol@yahoo.com`, [A, 'carol@yahoo.com']),
  to(`Alice <${A}>, "Carol, C." <carol@yahoo.com>, dave@example.org`, [A, 'carol@yahoo.com', 'dave@example.org']),
  to(`<${A}>, <carol@yahoo.com>`, [A, 'carol@yahoo.com']),
  to(`${A} ,carol@yahoo.com`, [A, 'carol@yahoo.com']),
  to(`undisclosed-recipients:;, ${A}`, [A]),
  to(`${A}, undisclosed-recipients: ;`, [A]),
  to('user@bücher.example', ['user@xn--bcher-kva.example']),
  to('Jöhn Doe <user@bücher.example>', ['user@xn--bcher-kva.example']),
  to(`=?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <${A}>`, [A]),
  to(`=?utf-8?B?SsO2cmc=?= <${A}>`, [A]),
  to(`=?iso-8859-1?Q?Ren=E9?= <${A}>`, [A]),
  to(`"O'Brien" <o'brien@example.ie>`, ["o'brien@example.ie"]),
  to('a.b+tag@sub.example.co.uk', ['a.b+tag@sub.example.co.uk']),
  to(`Alice.Example@Bank.Example`, ['alice.example@bank.example']),
  { name: 'To and Cc', headers: `To: ${A}\r\nCc: carol@yahoo.com`, expected: [A, 'carol@yahoo.com'] },
  {
    name: 'To, Cc and Bcc with one address in two',
    headers: `To: ${A}\r\nCc: carol@yahoo.com, ${A}\r\nBcc: dave@example.org`,
    expected: [A, 'carol@yahoo.com', 'dave@example.org'],
    bcc: 'dave@example.org',
  },
  { name: 'To with an empty group, Bcc with the recipient', headers: `To: undisclosed-recipients:;\r\nBcc: ${A}`, expected: [A], bcc: A },
  {
    name: 'Reply-To and Sender fields',
    headers: `To: ${A}\r\nReply-To: "Alice at Acme" <alice@acme.example>\r\nSender: alice@acme.example`,
    expected: [A],
  },
];

// The whole message for a row: when the row has its own From, its headers come first; otherwise a
// From and the usual headers, then the row's (so a Bcc row's field ends the header block).
export function rowMessage(row: TAddressRow): Buffer {
  const usual = [
    'Subject: Your statement',
    'Message-ID: <orig-1@acme.example>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ];
  const headers = /^from\s*:/im.test(row.headers)
    ? [row.headers, ...usual]
    : ['From: Alice Example <alice@acme.example>', ...usual, row.headers];
  return Buffer.from([...headers, '', 'The secret body.', ''].join('\r\n'), 'utf8');
}

export const isRefusal = (expected: TExpected): expected is TRefusal => !Array.isArray(expected);
