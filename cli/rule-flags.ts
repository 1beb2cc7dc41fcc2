import type { ParseArgsConfig } from 'node:util';
import { ConfigError } from '../lib/env';

// `sealpost rules add` flags: each condition has a `--not-` twin that negates it.
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

type TFlags = Record<string, string | boolean | string[] | undefined>;

const list = (v: unknown): string[] | undefined => (Array.isArray(v) && v.length > 0 ? (v as string[]) : undefined);

const splitHeader = (flag: string, v: string) => {
  const colon = v.indexOf(':');
  if (colon < 1) throw new ConfigError(`--${flag} must be Name:value, e.g. "Sensitivity:Company-Confidential"`);
  return { name: v.slice(0, colon), value: v.slice(colon + 1) };
};

const toBytes = (flag: string, v: string) => {
  if (!/^\d{1,15}$/.test(v)) throw new ConfigError(`--${flag} must be a number of bytes`);
  return Number(v);
};

// Flags to the rule input lib/rules validates; only the shape is decided here.
export function ruleInputFromFlags(values: TFlags): { input: unknown; position?: number } {
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
      for (const v of list(f(flag)) ?? []) conditions.push({ type: 'header', ...splitHeader(name(flag), v), match, negate });
    }
    const larger = f('larger-than');
    if (typeof larger === 'string') conditions.push({ type: 'largerThan', bytes: toBytes(name('larger-than'), larger), negate });
    if (f('has-attachment') === true) conditions.push({ type: 'hasAttachment', negate });
  }
  const kind = values.action;
  if (kind !== 'encrypt' && kind !== 'pass' && kind !== 'reject') throw new ConfigError('--action must be encrypt, pass or reject');
  if (values.template !== undefined && kind !== 'encrypt') throw new ConfigError('--template goes with --action encrypt');
  if (values['remove-keyword'] === true && kind !== 'encrypt') throw new ConfigError('--remove-keyword goes with --action encrypt');
  if (values['reject-text'] !== undefined && kind !== 'reject') throw new ConfigError('--reject-text goes with --action reject');
  if (kind === 'reject' && typeof values['reject-text'] !== 'string') throw new ConfigError('--action reject needs --reject-text');
  const action =
    kind === 'encrypt'
      ? { kind, template: values.template, removeKeyword: values['remove-keyword'] === true }
      : kind === 'reject'
        ? { kind, text: values['reject-text'] }
        : { kind };
  const priority = values.priority;
  if (priority !== undefined && (typeof priority !== 'string' || !/^\d{1,6}$/.test(priority)))
    throw new ConfigError('--priority must be a position (1 is first)');
  return {
    input: { name: values.name, enabled: values.disabled !== true, stop: values.stop === true, conditions, action },
    position: priority === undefined ? undefined : Number(priority),
  };
}
