import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@/lib/errors';
import { addRule } from '@/lib/rules/add-rule';
import { decideRecipients, type TMessageFacts } from '@/lib/rules/decide-recipients';
import { evaluateRules } from '@/lib/rules/evaluate-rules';
import { importRules } from '@/lib/rules/import-rules';
import { stripSubjectKeyword } from '@/lib/rules/match-word';
import { moveRule } from '@/lib/rules/move-rule';
import { readMessageFacts } from '@/lib/rules/read-message-facts';
import { doesRuleSetReadBody } from '@/lib/rules/evaluate-rules';
import { recordRuleDecisions } from '@/lib/rules/record-rule-decisions';
import { removeRule } from '@/lib/rules/remove-rule';
import { loadRuleSet } from '@/lib/rules/rule-set-store';
import { ZRuleSet, type TCondition } from '@/lib/rules/schema';
import { setRuleSettings } from '@/lib/rules/set-rule-settings';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTenant } from '@/lib/tenants/tenants';
import { runCli } from './helpers/cli';
import { createTestContext, makeTempDir, sampleEml, seedTenant, type TTestContext } from './helpers/context';

let ctx: TTestContext;
let acme: TTenant;
beforeAll(async () => {
  ctx = await createTestContext();
  acme = await seedTenant(ctx, { slug: 'rules-acme', mailDomain: 'acme.example' });
  await setBranding({ db: ctx.db, tenantId: acme.id, template: 'bank', input: { displayName: 'Acme Private Banking' } });
});
afterAll(() => ctx?.close());

const facts = (o: Partial<TMessageFacts> = {}): TMessageFacts => ({
  sender: 'alice@acme.example',
  subject: 'Your statement',
  headers: [],
  bodyText: 'Hello',
  sizeBytes: 500,
  hasAttachment: false,
  ...o,
});

// One rule with one condition, evaluated for one recipient: did it match?
const matches = (condition: object, f: TMessageFacts, recipient = 'cust@gmail.com', internalDomains = ['acme.example']) => {
  const set = ZRuleSet.parse({ rules: [{ name: 'r', conditions: [condition], action: { kind: 'reject', text: 'matched' } }] });
  return evaluateRules({ set, internalDomains, facts: f, recipients: [recipient] })[0]!.rule === 'r';
};

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe('every condition, and its negation', () => {
  const header = (name: string, value: string) =>
    facts({
      headers: [
        { name: 'From', value: 'x@acme.example' },
        { name, value },
      ],
    });
  it.each([
    // subject contains a whole word, in any case
    ['[secure] at the start', { type: 'subjectContains', words: ['[secure]'] }, facts({ subject: '[secure] Your statement' }), true],
    [
      '[SECURE] after Re: without a space',
      { type: 'subjectContains', words: ['[secure]'] },
      facts({ subject: 'Re:[SECURE] Statement' }),
      true,
    ],
    [
      '[secure] glued to a word is not the token',
      { type: 'subjectContains', words: ['[secure]'] },
      facts({ subject: 'x[secure]y' }),
      false,
    ],
    [
      'secure without brackets is not [secure]',
      { type: 'subjectContains', words: ['[secure]'] },
      facts({ subject: 'secure statement' }),
      false,
    ],
    ['encrypt as a word', { type: 'subjectContains', words: ['encrypt'] }, facts({ subject: 'Please ENCRYPT: statement' }), true],
    ['encrypted is not encrypt', { type: 'subjectContains', words: ['encrypt'] }, facts({ subject: 'encrypted statement' }), false],
    ['unencrypt is not encrypt', { type: 'subjectContains', words: ['encrypt'] }, facts({ subject: 'unencrypt it' }), false],
    ['any word of the list', { type: 'subjectContains', words: ['secret', 'encrypt'] }, facts({ subject: 'encrypt' }), true],
    ['a non-Latin word', { type: 'subjectContains', words: ['機密'] }, facts({ subject: '【機密】 報表' }), true],
    ['a regex-like word is a literal: a.c is not abc', { type: 'subjectContains', words: ['a.c'] }, facts({ subject: 'abc' }), false],
    [
      'a regex-like word is a literal: (a+)+$ matches itself',
      { type: 'subjectContains', words: ['(a+)+$'] },
      facts({ subject: 'see (a+)+$ here' }),
      true,
    ],
    [
      'subject contains does not look at the body',
      { type: 'subjectContains', words: ['encrypt'] },
      facts({ bodyText: 'please encrypt' }),
      false,
    ],
    // subject or body
    ['body holds the word', { type: 'subjectOrBodyContains', words: ['confidential'] }, facts({ bodyText: 'This is Confidential.' }), true],
    ['subject holds the word', { type: 'subjectOrBodyContains', words: ['confidential'] }, facts({ subject: 'confidential' }), true],
    ['neither holds it', { type: 'subjectOrBodyContains', words: ['confidential'] }, facts({ bodyText: 'confidentiality' }), false],
    // recipient outside the organisation
    ['gmail is outside', { type: 'recipientOutside' }, facts(), true],
    // recipient domain in a list (subdomains included)
    ['listed domain', { type: 'recipientDomain', domains: ['gmail.com'] }, facts(), true],
    ['unlisted domain', { type: 'recipientDomain', domains: ['partner.example'] }, facts(), false],
    // sender address or domain
    ['sender address', { type: 'sender', senders: ['Alice@Acme.example'] }, facts(), true],
    ['sender domain', { type: 'sender', senders: ['acme.example'] }, facts({ sender: 'bob@eu.acme.example' }), true],
    ['other sender', { type: 'sender', senders: ['bob@acme.example', 'other.example'] }, facts(), false],
    ['a domain is not a suffix of another', { type: 'sender', senders: ['acme.example'] }, facts({ sender: 'x@notacme.example' }), false],
    // headers
    [
      'header contains',
      { type: 'header', name: 'Sensitivity', value: 'confidential', match: 'contains' },
      header('Sensitivity', 'Company-Confidential'),
      true,
    ],
    [
      'header equals, any case',
      { type: 'header', name: 'sensitivity', value: 'company-confidential', match: 'equals' },
      header('Sensitivity', ' Company-Confidential'),
      true,
    ],
    [
      'header equals is not contains',
      { type: 'header', name: 'Sensitivity', value: 'Confidential', match: 'equals' },
      header('Sensitivity', 'Company-Confidential'),
      false,
    ],
    [
      'X-Sealpost-Encrypt: yes',
      { type: 'header', name: 'X-Sealpost-Encrypt', value: 'yes', match: 'equals' },
      header('X-Sealpost-Encrypt', 'yes'),
      true,
    ],
    [
      'a value under another header',
      { type: 'header', name: 'X-Sealpost-Encrypt', value: 'yes', match: 'contains' },
      header('X-Other', 'yes'),
      false,
    ],
    // size
    ['larger than N', { type: 'largerThan', bytes: 1000 }, facts({ sizeBytes: 1001 }), true],
    ['exactly N is not larger', { type: 'largerThan', bytes: 1000 }, facts({ sizeBytes: 1000 }), false],
    // attachments
    ['has an attachment', { type: 'hasAttachment' }, facts({ hasAttachment: true }), true],
    ['has none', { type: 'hasAttachment' }, facts(), false],
  ] as Array<[string, TCondition, TMessageFacts, boolean]>)('%s', (_name, condition, f, expected) => {
    expect(matches(condition, f)).toBe(expected);
    expect(matches({ ...condition, negate: true }, f)).toBe(!expected);
  });

  it.each([
    ['cust@gmail.com', true],
    ['bob@acme.example', false],
    ['bob@ACME.example', false],
    ['bob@eu.acme.example', false],
    ['bob@badacme.example', true],
    ['bob@acme-group.example', false],
  ])('recipient outside: %s → %s (mail domain and subdomains, plus the extra internal domains)', (recipient, outside) => {
    expect(matches({ type: 'recipientOutside' }, facts(), recipient, ['acme.example', 'acme-group.example'])).toBe(outside);
  });

  it('recipient domain covers subdomains, not look-alikes', () => {
    const c = { type: 'recipientDomain', domains: ['partner.example'] } as TCondition;
    expect(matches(c, facts(), 'a@partner.example')).toBe(true);
    expect(matches(c, facts(), 'a@mail.Partner.example')).toBe(true);
    expect(matches(c, facts(), 'a@notpartner.example')).toBe(false);
  });

  it('a hostile subject against a regex-like word stays fast (the word is never a pattern)', () => {
    const started = performance.now();
    expect(
      matches(
        { type: 'subjectOrBodyContains', words: ['(a+)+$', '.*.*.*x'] },
        facts({ subject: 'a'.repeat(998), bodyText: `${'a'.repeat(2_000_000)}!` }),
      ),
    ).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('actions, priority, stop and the default action', () => {
  const decide = (rules: unknown[], f = facts(), recipients = ['cust@gmail.com'], extra: Record<string, unknown> = {}) =>
    evaluateRules({ set: ZRuleSet.parse({ rules, ...extra }), internalDomains: ['acme.example'], facts: f, recipients });
  const rule = (name: string, action: unknown, o: Record<string, unknown> = {}) => ({
    name,
    conditions: [{ type: 'recipientOutside' }],
    action,
    ...o,
  });

  it.each([
    ['encrypt with a template', { kind: 'encrypt', template: 'bank' }, { kind: 'encrypt', template: 'bank' }],
    ['encrypt with the default template', { kind: 'encrypt' }, { kind: 'encrypt', template: 'default' }],
    ['pass through', { kind: 'pass' }, { kind: 'pass' }],
    [
      'reject with a text',
      { kind: 'reject', text: 'Encrypted mail to this partner is not allowed' },
      { kind: 'reject', text: 'Encrypted mail to this partner is not allowed' },
    ],
  ])('%s', (_name, action, expected) => {
    expect(decide([rule('r', action)])).toEqual([{ recipient: 'cust@gmail.com', rule: 'r', action: expected }]);
  });

  it('remove keyword: the decision names the subject keyword that triggered encryption, and stripping it cleans the subject', () => {
    const [d] = decide(
      [
        {
          name: 'kw',
          conditions: [{ type: 'subjectContains', words: ['encrypt', '[secure]'] }],
          action: { kind: 'encrypt', removeKeyword: true },
        },
      ],
      facts({ subject: 'Re: [SECURE] Your statement' }),
    );
    expect(d!.action).toEqual({ kind: 'encrypt', template: 'default', removeKeyword: '[secure]' });
    expect(stripSubjectKeyword({ subject: 'Re: [SECURE] Your statement', keyword: '[secure]' })).toBe('Re: Your statement');
    expect(stripSubjectKeyword({ subject: '[secure] statement [Secure]', keyword: '[secure]' })).toBe('statement');
    // A separator written with the keyword goes with it; one that belongs to the rest stays.
    expect(stripSubjectKeyword({ subject: 'Secure: quarterly figures', keyword: 'secure' })).toBe('quarterly figures');
    expect(stripSubjectKeyword({ subject: 'Re: secure - quarterly figures', keyword: 'secure' })).toBe('Re: quarterly figures');
    expect(stripSubjectKeyword({ subject: 'Quarterly figures | SECURE', keyword: 'secure' })).toBe('Quarterly figures');
    expect(stripSubjectKeyword({ subject: 'secure-mail: figures', keyword: 'secure' })).toBe('-mail: figures');
    expect(stripSubjectKeyword({ subject: 'Figures: Q3 [secure]', keyword: '[secure]' })).toBe('Figures: Q3');
    // Without the option, or when the word was only in the body, there is nothing to remove.
    expect(
      decide(
        [{ name: 'kw', conditions: [{ type: 'subjectContains', words: ['[secure]'] }], action: { kind: 'encrypt' } }],
        facts({ subject: '[secure] x' }),
      )[0]!.action,
    ).toEqual({ kind: 'encrypt', template: 'default' });
    expect(
      decide(
        [
          {
            name: 'kw',
            conditions: [{ type: 'subjectOrBodyContains', words: ['[secure]'] }],
            action: { kind: 'encrypt', removeKeyword: true },
          },
        ],
        facts({ bodyText: '[secure]' }),
      )[0]!.action,
    ).toEqual({ kind: 'encrypt', template: 'default' });
  });

  it('all conditions must hold', () => {
    const both = [{ name: 'both', conditions: [{ type: 'recipientOutside' }, { type: 'hasAttachment' }], action: { kind: 'encrypt' } }];
    expect(decide(both, facts({ hasAttachment: true }))[0]!.rule).toBe('both');
    expect(decide(both, facts({ hasAttachment: false }))[0]!.rule).toBeNull();
  });

  it('a rule with stop ends processing: a pass rule above an encrypt rule exempts', () => {
    expect(decide([rule('exempt', { kind: 'pass' }, { stop: true }), rule('enc', { kind: 'encrypt' })])[0]).toMatchObject({
      rule: 'exempt',
      action: { kind: 'pass' },
    });
  });

  it('without stop the strictest matching action wins, and at equal strictness the higher priority', () => {
    expect(decide([rule('p', { kind: 'pass' }), rule('e', { kind: 'encrypt' })])[0]!.rule).toBe('e');
    expect(decide([rule('e', { kind: 'encrypt' }), rule('p', { kind: 'pass' })])[0]!.rule).toBe('e');
    expect(decide([rule('e1', { kind: 'encrypt', template: 'bank' }), rule('e2', { kind: 'encrypt' })])[0]!.action).toEqual({
      kind: 'encrypt',
      template: 'bank',
    });
    expect(decide([rule('e', { kind: 'encrypt' }), rule('x', { kind: 'reject', text: 'no' })])[0]!.rule).toBe('x');
    // ...but a stop above a stricter rule wins.
    expect(decide([rule('e', { kind: 'encrypt' }, { stop: true }), rule('x', { kind: 'reject', text: 'no' })])[0]!.rule).toBe('e');
  });

  it('a disabled rule is skipped', () => {
    expect(decide([rule('off', { kind: 'reject', text: 'no' }, { enabled: false })])[0]).toEqual({
      recipient: 'cust@gmail.com',
      rule: null,
      action: { kind: 'pass' },
    });
  });

  it('no rule matching: the default action, pass through unless set', () => {
    expect(decide([])[0]).toEqual({ recipient: 'cust@gmail.com', rule: null, action: { kind: 'pass' } });
    expect(decide([], facts(), ['a@b.example'], { defaultAction: { kind: 'encrypt', template: 'bank' } })[0]).toEqual({
      recipient: 'a@b.example',
      rule: null,
      action: { kind: 'encrypt', template: 'bank' },
    });
  });
});

describe('per recipient, from the database', () => {
  it('a colleague passes, an outside customer is encrypted with template bank, and the audit log names the rule per recipient and no content', async () => {
    const t = await seedTenant(ctx);
    await setBranding({ db: ctx.db, tenantId: t.id, template: 'bank', input: {} });
    await addRule({
      db: ctx.db,
      tenantId: t.id,
      input: { name: 'outside', conditions: [{ type: 'recipientOutside' }], action: { kind: 'encrypt', template: 'bank' } },
    });
    const decisions = await decideRecipients({
      db: ctx.db,
      tenantId: t.id,
      message: { raw: sampleEml({ subject: 'Top secret merger' }), sender: `alice@${t.mail_domain}`, subject: 'Top secret merger' },
      recipients: [`bob@${t.mail_domain}`, 'customer@gmail.com'],
    });
    expect(decisions).toEqual([
      { recipient: `bob@${t.mail_domain}`, rule: null, action: { kind: 'pass' } },
      { recipient: 'customer@gmail.com', rule: 'outside', action: { kind: 'encrypt', template: 'bank' } },
    ]);
    await recordRuleDecisions({ db: ctx.db, tenantId: t.id, decisions });
    const rows = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', t.id)
      .where('type', '=', 'rule_matched')
      .orderBy('id')
      .execute();
    expect(rows.map((r) => JSON.parse(r.data!))).toEqual([
      { recipient: `bob@${t.mail_domain}`, rule: null, action: 'pass', template: null },
      { recipient: 'customer@gmail.com', rule: 'outside', action: 'encrypt', template: 'bank' },
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/merger/i);
  });

  it('extra internal domains count as inside; the default action can be encrypt', async () => {
    const t = await seedTenant(ctx);
    await addRule({
      db: ctx.db,
      tenantId: t.id,
      input: { name: 'outside', conditions: [{ type: 'recipientOutside' }], action: { kind: 'encrypt' } },
    });
    await setRuleSettings({ db: ctx.db, tenantId: t.id, internalDomains: ['sister.example'] });
    const run = () =>
      decideRecipients({
        db: ctx.db,
        tenantId: t.id,
        message: { raw: sampleEml({}), sender: 'alice@acme.example', subject: 'Your statement' },
        recipients: ['a@sister.example', 'b@gmail.com'],
      });
    expect((await run()).map((d) => d.rule)).toEqual([null, 'outside']);
    await setRuleSettings({ db: ctx.db, tenantId: t.id, defaultAction: { kind: 'encrypt' } });
    expect((await run())[0]).toEqual({ recipient: 'a@sister.example', rule: null, action: { kind: 'encrypt', template: 'default' } });
    await expect(
      refusal(setRuleSettings({ db: ctx.db, tenantId: t.id, defaultAction: { kind: 'encrypt', template: 'nosuch' } })),
    ).resolves.toMatchObject({ message: expect.stringContaining('defaultAction.template: no template named "nosuch"') });
  });

  it('facts read from a real message: attachment, size, unfolded headers, body text', async () => {
    const raw = Buffer.concat([Buffer.from('Sensitivity:\r\n Company-Confidential\r\n'), sampleEml({ subject: '[secure] statement' })]);
    const read = (r: Buffer, isBodyRead = true) =>
      readMessageFacts({ raw: r, sender: 'alice@acme.example', subject: '[secure] statement', isBodyRead });
    const f = await read(raw);
    expect(f).toMatchObject({ sender: 'alice@acme.example', subject: '[secure] statement', hasAttachment: true, sizeBytes: raw.length });
    expect(f.headers[0]).toEqual({ name: 'Sensitivity', value: 'Company-Confidential' });
    expect(f.bodyText).toContain('account 12345678');
    expect((await read(sampleEml({ attachment: false }))).hasAttachment).toBe(false);
    // No rule reads the body: it is not parsed, and the headers still are.
    const unread = await read(raw, false);
    expect(unread).toMatchObject({ bodyText: '', hasAttachment: false, sizeBytes: raw.length });
    expect(unread.headers[0]).toEqual({ name: 'Sensitivity', value: 'Company-Confidential' });
  });

  it('the body is read exactly when an enabled rule looks at its words or attachments', async () => {
    const set = (conditions: object[], enabled = true) =>
      ZRuleSet.parse({ rules: [{ name: 'r', enabled, conditions, action: { kind: 'encrypt' } }] });
    expect(doesRuleSetReadBody(set([{ type: 'subjectContains', words: ['secure'] }, { type: 'recipientOutside' }]))).toBe(false);
    expect(doesRuleSetReadBody(set([{ type: 'subjectOrBodyContains', words: ['secure'] }]))).toBe(true);
    expect(doesRuleSetReadBody(set([{ type: 'hasAttachment', negate: true }]))).toBe(true);
    expect(doesRuleSetReadBody(set([{ type: 'hasAttachment' }], false))).toBe(false);
    // Through the database: a body word decides only because the body was read.
    const t = await seedTenant(ctx);
    await addRule({
      db: ctx.db,
      tenantId: t.id,
      input: { name: 'account', conditions: [{ type: 'subjectOrBodyContains', words: ['12345678'] }], action: { kind: 'encrypt' } },
    });
    const decisions = await decideRecipients({
      db: ctx.db,
      tenantId: t.id,
      message: { raw: sampleEml({}), sender: 'alice@acme.example', subject: 'Your statement' },
      recipients: ['cust@gmail.com'],
    });
    expect(decisions[0]?.rule).toBe('account');
  });

  it('add at a priority, move, remove; names are unique per tenant, in any case', async () => {
    const t = await seedTenant(ctx);
    const add = (name: string, position?: number) =>
      addRule({ db: ctx.db, tenantId: t.id, input: { name, conditions: [], action: { kind: 'pass' } }, position });
    await add('a');
    await add('b');
    await add('c', 1);
    const order = async () => (await loadRuleSet({ db: ctx.db, tenantId: t.id })).rules.map((r) => r.name);
    expect(await order()).toEqual(['c', 'a', 'b']);
    await expect(refusal(add('A'))).resolves.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('name: a rule named "A" already exists'),
    });
    await expect(refusal(add('d', 9))).resolves.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('priority') });
    expect(await moveRule({ db: ctx.db, tenantId: t.id, name: 'c', to: 3 })).toEqual({ order: ['a', 'b', 'c'] });
    await removeRule({ db: ctx.db, tenantId: t.id, name: 'b' });
    expect(await order()).toEqual(['a', 'c']);
    await expect(refusal(removeRule({ db: ctx.db, tenantId: t.id, name: 'b' }))).resolves.toMatchObject({ code: 'NOT_FOUND' });
    // Another tenant may use the same names.
    await addRule({ db: ctx.db, tenantId: acme.id, input: { name: 'a', conditions: [], action: { kind: 'pass' } } });
    await removeRule({ db: ctx.db, tenantId: acme.id, name: 'a' });
  });

  it('concurrent adds all land, each once, in some order', async () => {
    const t = await seedTenant(ctx);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        addRule({ db: ctx.db, tenantId: t.id, input: { name: `r${i}`, conditions: [], action: { kind: 'pass' } } }),
      ),
    );
    expect((await loadRuleSet({ db: ctx.db, tenantId: t.id })).rules.map((r) => r.name).sort()).toEqual([
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
      'r5',
      'r6',
      'r7',
    ]);
  });
});

describe('hostile rule input is refused with the field named', () => {
  const longList = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
  const one = (rule: Record<string, unknown>) => ({ rules: [{ name: 'r', conditions: [], action: { kind: 'pass' }, ...rule }] });
  it.each([
    [
      'a huge domain list',
      one({ conditions: [{ type: 'recipientDomain', domains: longList(101, (i) => `d${i}.example`) }] }),
      'rules.0.conditions.0 (recipientDomain).domains: at most 100 domains',
    ],
    [
      'a huge word list',
      one({ conditions: [{ type: 'subjectContains', words: longList(51, (i) => `w${i}`) }] }),
      'rules.0.conditions.0 (subjectContains).words: at most 50 words',
    ],
    [
      'a huge sender list',
      one({ conditions: [{ type: 'sender', senders: longList(101, (i) => `s${i}@x.example`) }] }),
      'rules.0.conditions.0 (sender).senders: at most 100',
    ],
    [
      'a long word',
      one({ conditions: [{ type: 'subjectContains', words: ['x'.repeat(65)] }] }),
      'rules.0.conditions.0 (subjectContains).words.0: a word is at most 64 characters',
    ],
    [
      'too many rules',
      { rules: longList(201, (i) => ({ name: `r${i}`, conditions: [], action: { kind: 'pass' } })) },
      'rules: at most 200 rules',
    ],
    [
      'too many conditions',
      one({ conditions: longList(21, () => ({ type: 'hasAttachment' })) }),
      'rules.0.conditions: at most 20 conditions',
    ],
    [
      'a control character in a word',
      one({ conditions: [{ type: 'subjectContains', words: ['se\u0000cure'] }] }),
      'rules.0.conditions.0 (subjectContains).words.0: must not contain control characters',
    ],
    [
      'CRLF at the end of a word',
      one({ conditions: [{ type: 'subjectContains', words: ['secure\r\n'] }] }),
      'rules.0.conditions.0 (subjectContains).words.0: must not contain control characters',
    ],
    [
      'CRLF in a reject text',
      one({ action: { kind: 'reject', text: 'no\r\n250 2.0.0 ok' } }),
      'rules.0.action.text: must be printable ASCII on one line',
    ],
    ['a too long reject text', one({ action: { kind: 'reject', text: 'x'.repeat(201) } }), 'rules.0.action.text: at most 200 characters'],
    [
      'CRLF in a header name',
      one({ conditions: [{ type: 'header', name: 'X-A\r\nBcc', value: 'x' }] }),
      'rules.0.conditions.0 (header).name: must not contain control characters',
    ],
    [
      'a colon in a header name',
      one({ conditions: [{ type: 'header', name: 'X-A: b', value: 'x' }] }),
      'rules.0.conditions.0 (header).name: a header name is printable ASCII',
    ],
    [
      'LF in a header value',
      one({ conditions: [{ type: 'header', name: 'X-A', value: 'yes\nX-B: no' }] }),
      'rules.0.conditions.0 (header).value: must not contain control characters',
    ],
    [
      'a bad domain',
      one({ conditions: [{ type: 'recipientDomain', domains: ['evil.example/../x'] }] }),
      'rules.0.conditions.0 (recipientDomain).domains.0: must be a mail domain',
    ],
    [
      'a bad sender',
      one({ conditions: [{ type: 'sender', senders: ['a b@x.example'] }] }),
      'rules.0.conditions.0 (sender).senders.0: must be a mail address',
    ],
    [
      'a negative size',
      one({ conditions: [{ type: 'largerThan', bytes: -1 }] }),
      'rules.0.conditions.0 (largerThan).bytes: must not be negative',
    ],
    [
      'an unknown condition',
      one({ conditions: [{ type: 'subjectMatchesRegex', pattern: '(a+)+$' }] }),
      'rules.0.conditions.0 (subjectMatchesRegex).type',
    ],
    ['an unknown field', one({ conditions: [{ type: 'hasAttachment', pattern: 'x' }] }), 'rules.0.conditions.0 (hasAttachment)'],
    ['a bad template name', one({ action: { kind: 'encrypt', template: '../bank' } }), 'rules.0.action.template: template names are'],
    ['a control character in a name', one({ name: 'r\u001b[31m' }), 'rules.0.name: must not contain control characters'],
    [
      'duplicate names, in any case',
      {
        rules: [
          { name: 'Same', conditions: [], action: { kind: 'pass' } },
          { name: 'same', conditions: [], action: { kind: 'pass' } },
        ],
      },
      'rules.1.name: duplicate rule name "same"',
    ],
    [
      'an unknown template',
      one({ action: { kind: 'encrypt', template: 'nosuch' } }),
      'rules.0.action.template (rule "r"): no template named "nosuch"',
    ],
  ] as Array<[string, unknown, string]>)('%s', async (_name, input, field) => {
    const t = acme;
    const before = await loadRuleSet({ db: ctx.db, tenantId: t.id });
    const r = await refusal(importRules({ db: ctx.db, tenantId: t.id, input }));
    expect(r.code).toBe('BAD_REQUEST');
    expect(r.message).toContain(field);
    // The import is all or nothing.
    expect(await loadRuleSet({ db: ctx.db, tenantId: t.id })).toEqual(before);
  });
});

// Each `sealpost` run compiles the CLI through tsx: seconds apiece on a busy machine.
const CLI_TIMEOUT = 180_000;
const dir = makeTempDir();

describe('the sealpost rules command', () => {
  const eml = (subject: string) => {
    const file = path.join(dir, 'm.eml');
    fs.writeFileSync(file, sampleEml({ to: ['bob@acme.example', 'customer@gmail.com'], subject }));
    return file;
  };

  it(
    'rules add with the stable names',
    () => {
      const add = (...args: string[]) => runCli(['rules', 'add', '--tenant', acme.slug, ...args], ctx.cliEnv);
      expect(
        add('--name', 'secure-keyword', '--subject-contains', '[secure]', '--action', 'encrypt', '--remove-keyword', '--stop').status,
      ).toBe(0);
      expect(add('--name', 'outside', '--recipient-outside', '--action', 'encrypt', '--template', 'bank').status).toBe(0);
      const blocked = add(
        '--name',
        'blocked',
        '--recipient-domain',
        'blocked.example',
        '--header',
        'X-Test:x',
        '--action',
        'reject',
        '--reject-text',
        'Mail to this partner is blocked',
        '--priority',
        '1',
      );
      expect(blocked.status, blocked.stderr).toBe(0);
      expect(blocked.json).toMatchObject({
        position: 1,
        rule: {
          conditions: [
            { type: 'recipientDomain', domains: ['blocked.example'] },
            { type: 'header', name: 'X-Test', value: 'x', match: 'contains' },
          ],
          action: { kind: 'reject' },
        },
      });
    },
    CLI_TIMEOUT,
  );

  it(
    'rules test prints per recipient the rule and what would happen, and writes nothing',
    async () => {
      const counts = async () =>
        Promise.all(
          ['audit_events', 'messages', 'outbox'].map(
            async (t) =>
              (
                await ctx.db
                  .selectFrom(t as 'outbox')
                  .select((e) => e.fn.countAll().as('n'))
                  .executeTakeFirstOrThrow()
              ).n,
          ),
        );
      const before = await counts();
      const plain = runCli(['rules', 'test', '--tenant', acme.slug, eml('Your statement')], ctx.cliEnv);
      expect(plain.status, plain.stderr).toBe(0);
      expect(plain.json).toEqual({
        tenant: acme.slug,
        recipients: [
          { recipient: 'bob@acme.example', rule: null, action: 'pass' },
          { recipient: 'customer@gmail.com', rule: 'outside', action: 'encrypt', template: 'bank' },
        ],
      });
      const secure = runCli(['rules', 'test', '--tenant', acme.slug, eml('RE: [Secure] Your statement')], ctx.cliEnv);
      expect(secure.json.recipients).toEqual([
        {
          recipient: 'bob@acme.example',
          rule: 'secure-keyword',
          action: 'encrypt',
          template: 'default',
          removeKeyword: '[secure]',
          subject: 'RE: Your statement',
        },
        {
          recipient: 'customer@gmail.com',
          rule: 'secure-keyword',
          action: 'encrypt',
          template: 'default',
          removeKeyword: '[secure]',
          subject: 'RE: Your statement',
        },
      ]);
      expect(await counts()).toEqual(before);
    },
    CLI_TIMEOUT,
  );

  it(
    'rules export, import into another tenant, export again: the same set',
    async () => {
      const file = path.join(dir, 'rules.json');
      expect(runCli(['rules', 'export', '--tenant', acme.slug, file], ctx.cliEnv).json).toMatchObject({ file, rules: 3 });
      const other = await seedTenant(ctx);
      await setBranding({ db: ctx.db, tenantId: other.id, template: 'bank', input: {} });
      const imported = runCli(['rules', 'import', '--tenant', other.slug, file], ctx.cliEnv);
      expect(imported.json, imported.stderr).toEqual({ tenant: other.slug, imported: 3, order: ['blocked', 'secure-keyword', 'outside'] });
      expect(runCli(['rules', 'export', '--tenant', other.slug], ctx.cliEnv).json).toEqual(JSON.parse(fs.readFileSync(file, 'utf8')));
    },
    CLI_TIMEOUT,
  );

  it.each([
    [
      ['--name', 'x', '--subject-contains', 'a\r\nb', '--action', 'pass'],
      'Invalid rule: conditions.0 (subjectContains).words.0: must not contain control characters',
    ],
    [
      ['--name', 'x', '--action', 'reject', '--reject-text', 'no\r\n250 ok'],
      'Invalid rule: action.text: must be printable ASCII on one line',
    ],
    [['--name', 'x', '--recipient-outside', '--action', 'encrypt', '--template', 'nosuch'], 'no template named "nosuch"'],
    [['--name', 'x', '--header', 'no-colon', '--action', 'pass'], '--header must be Name:value'],
  ])(
    'rules add %j is refused: %s',
    (args, message) => {
      const r = runCli(['rules', 'add', '--tenant', acme.slug, ...args], ctx.cliEnv);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(message);
    },
    CLI_TIMEOUT,
  );
});
