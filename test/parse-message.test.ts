import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { isAppError } from '@/lib/errors';
import { findHeaderEnd, parseOutgoingMessage, rereadEditedSubject } from '@/lib/mail/parse-message';
import { removeSubjectKeyword } from '@/lib/rules/remove-subject-keyword';

// parseOutgoingMessage reads Subject and Message-ID itself instead of running mailparser over the
// header block. What the two readings give must be the same, on real mail and on hostile headers.
const corpus = new URL('./corpora/mime/mailparser-fixtures/', import.meta.url);
const fixtures = fs
  .readdirSync(corpus)
  .filter((f) => f.endsWith('.eml'))
  .map((f) => ({ name: f, raw: fs.readFileSync(path.join(corpus.pathname, f)) }));

const SUBJECTS: Array<string | Buffer> = [
  'Quarterly figures',
  '  padded  subject  ',
  '=?utf-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=',
  '=?UTF-8?B?5L2g5aW977yM5LiW55WM?=',
  '=?iso-8859-1?q?caf=E9?= and =?iso-8859-1?q?cr=E8me?=',
  '=?shift_jis?B?k/qWe4zq?=',
  '=?gb2312?B?xOO6ww==?=',
  '=?utf-8?Q?broken',
  '=?utf-8?B?!!!notbase64?=',
  '=?x-unknown?Q?abc?=',
  '=?utf-8?Q??=',
  'folded\r\n over\r\n\tthree lines',
  '[secure] statement =?utf-8?Q?=E2=80=94?= April',
  Buffer.from('Bytes in UTF-8: ünïcödé ✓'),
  Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0x31, 0x3a, 0x20, 0xe9, 0xe8]),
  '',
  '   ',
  '<script>alert(1)</script>',
  '=?utf-8?Q?=00=01null?=',
];
const MESSAGE_IDS = ['<abc@acme.example>', 'abc@acme.example', '<half@acme.example', 'half@acme.example>', '', '=?utf-8?Q?enc@x?='];

const headerOf = (lines: Array<string | Buffer>) =>
  Buffer.concat([...lines.map((l) => Buffer.concat([Buffer.from(l), Buffer.from('\r\n')])), Buffer.from('\r\nbody\r\n')]);
const field = (name: string, value: string | Buffer) => Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value)]);

// What mailparser makes of the same header block.
async function mailparserReading(raw: Buffer) {
  const block = raw.subarray(0, findHeaderEnd(raw));
  const parsed = await simpleParser(Buffer.concat([block, Buffer.from('\r\n\r\n')]), { skipTextToHtml: true, skipHtmlToText: true });
  return { subject: (parsed.subject ?? '').slice(0, 998), messageIdHeader: parsed.messageId ?? null };
}

async function ourReading(raw: Buffer) {
  const parsed = await parseOutgoingMessage({ raw, maxBytes: 25 * 1024 * 1024 });
  return { subject: parsed.subject, messageIdHeader: parsed.messageIdHeader };
}

describe('Subject and Message-ID read as mailparser reads them', () => {
  it.each(fixtures)('$name', async ({ raw }) => {
    let ours: Awaited<ReturnType<typeof ourReading>>;
    try {
      ours = await ourReading(raw);
    } catch (error) {
      // A message refused (a malformed header, an address list) has no reading to compare.
      expect(isAppError(error)).toBe(true);
      return;
    }
    expect(ours).toEqual(await mailparserReading(raw));
  });

  it.each(SUBJECTS.map((s, i) => ({ i, s })))('subject #$i', async ({ s }) => {
    const raw = headerOf(['From: alice@acme.example', 'To: bob@partner.example', field('Subject', s), 'Message-ID: <m@acme.example>']);
    expect(await ourReading(raw)).toEqual(await mailparserReading(raw));
  });

  it.each(MESSAGE_IDS.map((m, i) => ({ i, m })))('message-id #$i', async ({ m }) => {
    const raw = headerOf(['From: alice@acme.example', 'To: bob@partner.example', 'Subject: x', field('Message-ID', m)]);
    expect(await ourReading(raw)).toEqual(await mailparserReading(raw));
  });

  it('the first non-empty occurrence wins, as in mailparser', async () => {
    const raw = headerOf([
      'From: alice@acme.example',
      'To: bob@partner.example',
      'Subject:',
      'Subject: second',
      'Subject: third',
      'Message-ID:',
      'Message-ID: <two@acme.example>',
    ]);
    const ours = await ourReading(raw);
    expect(ours).toEqual({ subject: 'second', messageIdHeader: '<two@acme.example>' });
    expect(ours).toEqual(await mailparserReading(raw));
  });

  it('agrees on 300 generated headers built from hostile pieces', async () => {
    const pieces = [...SUBJECTS.filter((s): s is string => typeof s === 'string'), '=?', '?=', '\r\n ', ';', ':', '"', '\\', 'é', '\t'];
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 300; n += 1) {
      const subject = Array.from({ length: 1 + (next() % 5) }, () => pieces[next() % pieces.length]).join(next() % 2 ? ' ' : '');
      const raw = headerOf(['From: alice@acme.example', 'To: bob@partner.example', `Subject: ${subject}`]);
      expect(await ourReading(raw), JSON.stringify(subject)).toEqual(await mailparserReading(raw));
    }
  });
});

// The relay seals a copy with the encrypt keyword taken out of its Subject and reads only that
// copy's subject and Bcc-stripped bytes again: the result must be the strict parser's own reading.
describe('rereadEditedSubject', () => {
  it.each([
    ['plain', 'Subject: [secure] Loan decision\r\n'],
    ['encoded words', 'Subject: =?UTF-8?Q?[secure]_K=C3=A4se?= und Brot\r\n'],
    ['folded, Subject last', 'Reply-To: desk@acme.example,\r\n team@acme.example\r\nSubject: Loan\r\n [secure] decision\r\n'],
  ])('reads a copy with its keyword removed as parseOutgoingMessage does (%s)', async (_name, fields) => {
    const raw = Buffer.from(
      `From: Alice <alice@acme.example>\r\nTo: Bob <bob@partner.example>, carol@partner.example\r\nBcc: dave@partner.example\r\n${fields}\r\nBody [secure]\r\n`,
    );
    const parsed = await parseOutgoingMessage({ raw, maxBytes: 1_000_000 });
    const edited = removeSubjectKeyword({ raw, keyword: '[secure]' });
    expect(edited.equals(raw)).toBe(false);
    const reread = rereadEditedSubject({ parsed, raw: edited });
    expect(reread).toEqual(await parseOutgoingMessage({ raw: edited, maxBytes: 1_000_000 }));
    expect(reread.subject).not.toContain('[secure]');
    expect(reread.mime.toString()).not.toContain('Bcc');
  });
});
