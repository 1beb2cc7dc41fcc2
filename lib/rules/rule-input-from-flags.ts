import type { ParseArgsConfig } from 'node:util';
import { AppError } from '../errors';

// `sealpost rules add` flags: each condition has a `--not-` twin that negates it. The console's
// rule form (lib/admin/rules/rule-form.ts) sends the same names, so both build a rule alike.
export const RULE_FLAG_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  tenant: { type: 'string' },
  name: { type: 'string' },
  action: { type: 'string' },
  template: { type: 'string' },
  'reject-text': { type: 'string' },
  'remove-keyword': { type: 'boolean' },
  stop: { type: 'boolean' },
  disabled: { type: 'boolean' },
  priority: { type: 'string' },
  ...Object.fromEntries(
    (
      [
        ['subject-contains', 'string', true],
        ['body-contains', 'string', true],
        ['recipient-outside', 'boolean', false],
        ['recipient-domain', 'string', true],
        ['sender', 'string', true],
        ['header', 'string', true],
        ['header-equals', 'string', true],
        ['larger-than', 'string', false],
        ['has-attachment', 'boolean', false],
      ] as const
    ).flatMap(([flag, type, multiple]) => [
      [flag, { type, multiple }],
      [`not-${flag}`, { type, multiple }],
    ]),
  ),
};

export type TRuleFlags = Record<string, string | boolean | string[] | undefined>;

const list = (v: unknown): string[] | undefined => (Array.isArray(v) && v.length > 0 ? (v as string[]) : undefined);

const splitHeader = (flag: string, v: string, fail: TFail) => {
  const colon = v.indexOf(':');
  if (colon < 1) throw fail(`--${flag} must be Name:value, e.g. "Sensitivity:Company-Confidential"`);
  return { name: v.slice(0, colon), value: v.slice(colon + 1) };
};

const toBytes = (flag: string, v: string, fail: TFail) => {
  if (!/^\d{1,15}$/.test(v)) throw fail(`--${flag} must be a number of bytes`);
  return Number(v);
};

type TFail = (message: string) => Error;

// Flags to the rule input lib/rules validates; only the shape is decided here. A shape error is
// `fail`'s (the CLI's usage error; BAD_REQUEST for the console).
export function ruleInputFromFlags(
  values: TRuleFlags,
  fail: TFail = (message) => new AppError('BAD_REQUEST', message),
): { input: unknown; position?: number } {
  const conditions: unknown[] = [];
  for (const negate of [false, true]) {
    const f = (flag: string) => values[negate ? `not-${flag}` : flag];
    const name = (flag: string) => (negate ? `not-${flag}` : flag);
    const words = list(f('subject-contains'));
    if (words) conditions.push({ type: 'subjectContains', words, negate });
    const bodyWords = list(f('body-contains'));
    if (bodyWords) conditions.push({ type: 'subjectOrBodyContains', words: bodyWords, negate });
    if (f('recipient-outside') === true) conditions.push({ type: 'recipientOutside', negate });
    const domains = list(f('recipient-domain'));
    if (domains) conditions.push({ type: 'recipientDomain', domains, negate });
    const senders = list(f('sender'));
    if (senders) conditions.push({ type: 'sender', senders, negate });
    for (const [flag, match] of [
      ['header', 'contains'],
      ['header-equals', 'equals'],
    ] as const) {
      for (const v of list(f(flag)) ?? []) conditions.push({ type: 'header', ...splitHeader(name(flag), v, fail), match, negate });
    }
    const larger = f('larger-than');
    if (typeof larger === 'string') conditions.push({ type: 'largerThan', bytes: toBytes(name('larger-than'), larger, fail), negate });
    if (f('has-attachment') === true) conditions.push({ type: 'hasAttachment', negate });
  }
  const kind = values.action;
  if (kind !== 'encrypt' && kind !== 'pass' && kind !== 'reject') throw fail('--action must be encrypt, pass or reject');
  if (values.template !== undefined && kind !== 'encrypt') throw fail('--template goes with --action encrypt');
  if (values['remove-keyword'] === true && kind !== 'encrypt') throw fail('--remove-keyword goes with --action encrypt');
  if (values['reject-text'] !== undefined && kind !== 'reject') throw fail('--reject-text goes with --action reject');
  if (kind === 'reject' && typeof values['reject-text'] !== 'string') throw fail('--action reject needs --reject-text');
  const action =
    kind === 'encrypt'
      ? { kind, template: values.template, removeKeyword: values['remove-keyword'] === true }
      : kind === 'reject'
        ? { kind, text: values['reject-text'] }
        : { kind };
  const priority = values.priority;
  if (priority !== undefined && (typeof priority !== 'string' || !/^\d{1,6}$/.test(priority)))
    throw fail('--priority must be a position (1 is first)');
  return {
    input: { name: values.name, enabled: values.disabled !== true, stop: values.stop === true, conditions, action },
    position: priority === undefined ? undefined : Number(priority),
  };
}
