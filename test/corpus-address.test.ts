import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normaliseAddress } from '@/lib/mail/address';
import { parseForwardRecipients } from '@/lib/messages/send-forward';

// isemail writes control characters as U+2400 + code point; turn them back into the real ones.
const unsymbol = (s: string) => s.replace(/[\u2400-\u241f]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x2400));
const unxml = (s: string) =>
  s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

const xml = fs.readFileSync(new URL('./corpora/email-address/isemail-tests.xml', import.meta.url), 'utf8');
const cases = [...xml.matchAll(/<test id="(\d+)">([\s\S]*?)<\/test>/g)].map(([, id, body]) => {
  const address = /<address>([\s\S]*?)<\/address>/.exec(body!)?.[1] ?? '';
  const category = /<category>(.*?)<\/category>/.exec(body!)?.[1] ?? '';
  return { id: Number(id), address: unsymbol(unxml(address)), category };
});
const invalid = cases.filter((c) => c.category === 'ISEMAIL_ERR');
// Dotless domains (test@io) are valid syntax but never a public mailbox; like bob@localhost, refused.
const isDotless = (a: string) => !a.slice(a.lastIndexOf('@') + 1).includes('.');
const valid = cases.filter((c) => c.category === 'ISEMAIL_VALID_CATEGORY' && !isDotless(c.address));
const dotless = cases.filter((c) => c.category === 'ISEMAIL_VALID_CATEGORY' && isDotless(c.address));
// Legal in RFC 5322 but refused by policy: quoted strings, comments, address literals, obsolete forms.
const refusedByPolicy = cases.filter((c) => ['ISEMAIL_RFC5321', 'ISEMAIL_CFWS', 'ISEMAIL_DEPREC', 'ISEMAIL_RFC5322'].includes(c.category));

describe(`isemail corpus (${cases.length} cases)`, () => {
  it('parses the whole corpus', () => {
    expect(cases.length).toBe(164);
    expect(invalid.length).toBeGreaterThan(50);
  });

  it.each(invalid.map((c) => [c.id, c.address]))('rejects invalid case #%i %j', (_id, address) => {
    expect(normaliseAddress(address)).toBeNull();
  });

  it.each(refusedByPolicy.map((c) => [c.id, c.address]))('rejects non-dot-atom case #%i %j', (_id, address) => {
    expect(normaliseAddress(address)).toBeNull();
  });

  it.each(dotless.map((c) => [c.id, c.address]))('rejects dotless-domain case #%i %j', (_id, address) => {
    expect(normaliseAddress(address)).toBeNull();
  });

  it.each(valid.map((c) => [c.id, c.address]))('accepts valid case #%i %j', (_id, address) => {
    expect(normaliseAddress(address)).toBe(address.toLowerCase());
  });
});

describe('normaliseAddress', () => {
  it.each([
    ['Bob@Gmail.COM', 'bob@gmail.com'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['user@bücher.example', 'user@xn--bcher-kva.example'],
    ['a.b+tag@sub.example.co.uk', 'a.b+tag@sub.example.co.uk'],
  ])('normalises %j to %j', (input, expected) => {
    expect(normaliseAddress(input)).toBe(expected);
  });

  it.each([
    'bob@gmail.com\r\nBcc: victim@example.com',
    'bob@gmail.com\nRCPT TO:<x@evil.example>',
    'bob@gmail.com>',
    '<bob@gmail.com>',
    'bob@gmail.com, eve@evil.example',
    'bob@localhost',
    'bob@127.0.0.1',
    'bob@[127.0.0.1]',
    'bob@gmail.com.',
    'bob@-gmail.com',
    'bob @gmail.com',
    'bob@gmail..com',
    '"bob"@gmail.com',
    'bob\u0000@gmail.com',
    '@gmail.com',
    'bob@',
    `${'x'.repeat(65)}@gmail.com`,
  ])('rejects the hostile address %j', (input) => {
    expect(normaliseAddress(input)).toBeNull();
  });
});

describe("a reader's forward recipients", () => {
  it('refuses any list holding one invalid or policy-refused corpus address next to a good one', () => {
    // A list separates on commas and white space: an entry like "test@iana.org\n" is, as a list, one
    // good address; every other refused address is refused inside a list too.
    const inList = [...invalid, ...refusedByPolicy, ...dotless].filter((x) =>
      x.address
        .split(/[,;\s]+/)
        .filter(Boolean)
        .some((p) => normaliseAddress(p) === null),
    );
    expect(inList.length).toBeGreaterThan(100);
    for (const c of inList) {
      expect(() => parseForwardRecipients(`ned@example.org, ${c.address}`), `#${c.id} ${JSON.stringify(c.address)}`).toThrow(
        /email addresses/,
      );
    }
  });

  it('accepts valid corpus addresses, normalised and without duplicates, up to ten', () => {
    const simple = valid.map((c) => c.address).filter((a) => !/[\s,;]/.test(a));
    expect(parseForwardRecipients(`${simple[0]}, ${simple[0]}; Ned@Example.org`)).toEqual([normaliseAddress(simple[0]), 'ned@example.org']);
    const ten = Array.from({ length: 10 }, (_, i) => `r${i}@example.org`);
    expect(parseForwardRecipients(ten.join(','))).toHaveLength(10);
    expect(() => parseForwardRecipients([...ten, 'r10@example.org'].join(','))).toThrow(/up to 10/);
    expect(() => parseForwardRecipients('')).toThrow();
    expect(() => parseForwardRecipients('ned@example.org\r\nBcc: eve@evil.example')).toThrow();
  });
});
