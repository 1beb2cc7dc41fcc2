import { z } from 'zod';
import { DEFAULT_TEMPLATE, ZTemplateName } from '../templates/schema';
import { ZMailDomain } from '../tenants/tenants';

// Mail-flow rules are tenant input that every outbound message is matched against: each field is
// bounded here, where it enters (CLI add, import), so a rule set can never make matching slow or
// put a CR/LF into an SMTP reply or a header comparison.
export const RULE_LIMITS = {
  rules: 200,
  conditions: 20,
  listItems: 100,
  words: 50,
  wordLength: 64,
  headerValueLength: 256,
  rejectTextLength: 200,
  internalDomains: 50,
  maxBytes: 2 ** 40,
} as const;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const noControl = (s: string) => !CONTROL.test(s);
// Checked before trimming: a CR/LF at either end is refused, not quietly cut off.
const ZCleanString = () => z.string().refine(noControl, 'must not contain control characters or line breaks').trim();

const ZRuleName = ZCleanString()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'a rule name is letters, digits, spaces, ".", "_" and "-", starting with a letter or digit');

const ZWord = ZCleanString()
  .min(1, 'must not be empty')
  .max(RULE_LIMITS.wordLength, `a word is at most ${RULE_LIMITS.wordLength} characters`);
const ZWords = z.array(ZWord).min(1, 'needs at least one word').max(RULE_LIMITS.words, `at most ${RULE_LIMITS.words} words`);

const ZDomainList = z
  .array(ZMailDomain)
  .min(1, 'needs at least one domain')
  .max(RULE_LIMITS.listItems, `at most ${RULE_LIMITS.listItems} domains`);

// A sender is an address (matched whole) or a domain (matched with its subdomains).
const ZSenderItem = ZCleanString()
  .toLowerCase()
  .max(254, 'at most 254 characters')
  .refine((s) => {
    const at = s.lastIndexOf('@');
    if (at < 0) return ZMailDomain.safeParse(s).success;
    return at > 0 && !/[\s<>"(),;:\\]/.test(s.slice(0, at)) && ZMailDomain.safeParse(s.slice(at + 1)).success;
  }, 'must be a mail address (name@example.com) or a domain (example.com)');
const ZSenderList = z
  .array(ZSenderItem)
  .min(1, 'needs at least one address or domain')
  .max(RULE_LIMITS.listItems, `at most ${RULE_LIMITS.listItems} addresses or domains`);

// RFC 5322 §2.2 field-name: printable US-ASCII except the colon.
const ZHeaderName = ZCleanString()
  .min(1, 'must not be empty')
  .max(76, 'at most 76 characters')
  .regex(/^[\x21-\x39\x3b-\x7e]+$/, 'a header name is printable ASCII without spaces or colons');
const ZHeaderValue = ZCleanString()
  .min(1, 'must not be empty')
  .max(RULE_LIMITS.headerValueLength, `at most ${RULE_LIMITS.headerValueLength} characters`);

const negate = { negate: z.boolean().default(false) };
export const ZCondition = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('recipientOutside'), ...negate }),
  z.strictObject({ type: z.literal('recipientDomain'), domains: ZDomainList, ...negate }),
  z.strictObject({ type: z.literal('sender'), senders: ZSenderList, ...negate }),
  z.strictObject({ type: z.literal('subjectContains'), words: ZWords, ...negate }),
  z.strictObject({ type: z.literal('subjectOrBodyContains'), words: ZWords, ...negate }),
  z.strictObject({
    type: z.literal('header'),
    name: ZHeaderName,
    value: ZHeaderValue,
    match: z.enum(['contains', 'equals']).default('contains'),
    ...negate,
  }),
  z.strictObject({
    type: z.literal('largerThan'),
    bytes: z.number().int('must be a whole number').min(0, 'must not be negative').max(RULE_LIMITS.maxBytes, 'is too large'),
    ...negate,
  }),
  z.strictObject({ type: z.literal('hasAttachment'), ...negate }),
]);
export type TCondition = z.infer<typeof ZCondition>;
export const CONDITION_TYPES = ZCondition.options.map((o) => o.shape.type.value);

// SMTP replies are ASCII lines (RFC 5321 §4.2): a CR/LF here would let a rule forge a second reply.
const ZRejectText = z
  .string()
  .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII on one line (no control characters, CR or LF)')
  .trim()
  .min(1, 'must not be empty')
  .max(RULE_LIMITS.rejectTextLength, `at most ${RULE_LIMITS.rejectTextLength} characters`);

export const ZRuleActionInput = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('encrypt'),
    template: ZTemplateName.default(DEFAULT_TEMPLATE),
    removeKeyword: z.boolean().default(false),
  }),
  z.strictObject({ kind: z.literal('pass') }),
  z.strictObject({ kind: z.literal('reject'), text: ZRejectText }),
]);
export type TRuleActionInput = z.infer<typeof ZRuleActionInput>;

export const ZRule = z.strictObject({
  name: ZRuleName,
  enabled: z.boolean().default(true),
  // Stop processing the rules after this one when it matches.
  stop: z.boolean().default(false),
  conditions: z.array(ZCondition).max(RULE_LIMITS.conditions, `at most ${RULE_LIMITS.conditions} conditions`),
  action: ZRuleActionInput,
});
export type TRule = z.infer<typeof ZRule>;

export const ZDefaultAction = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('pass') }),
  z.strictObject({ kind: z.literal('encrypt'), template: ZTemplateName.default(DEFAULT_TEMPLATE) }),
]);
export type TDefaultAction = z.infer<typeof ZDefaultAction>;

// The whole set, as `rules export` writes it and `rules import` reads it; rules in priority order.
export const ZRuleSet = z
  .strictObject({
    version: z.literal(1).default(1),
    defaultAction: ZDefaultAction.default({ kind: 'pass' }),
    // Domains inside the organisation besides the tenant's mail domain (subdomains included).
    internalDomains: z.array(ZMailDomain).max(RULE_LIMITS.internalDomains, `at most ${RULE_LIMITS.internalDomains} domains`).default([]),
    rules: z.array(ZRule).max(RULE_LIMITS.rules, `at most ${RULE_LIMITS.rules} rules`).default([]),
  })
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.rules.forEach((rule, i) => {
      const key = rule.name.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}"` });
      seen.add(key);
    });
  });
export type TRuleSet = z.infer<typeof ZRuleSet>;
