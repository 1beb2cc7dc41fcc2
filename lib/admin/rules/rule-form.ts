import { isAppError } from '../../errors';
import { ruleInputFromFlags, type TRuleFlags } from '../../rules/rule-input-from-flags';
import { toInvalidRules } from '../../rules/rule-set-store';
import { type TCondition, type TRule, ZRule } from '../../rules/schema';
import { DEFAULT_TEMPLATE } from '../../templates/schema';

type TFieldKind = 'list' | 'lines' | 'bool' | 'bytes';

// The rule form's conditions: the CLI's flags by name (lib/rules/rule-input-from-flags.ts), each
// asked once for "apply if" and once, with the `not-` prefix, for "except if". A list field takes
// one item a line (addresses and domains also comma-separated).
export const RULE_CONDITION_FIELDS: ReadonlyArray<{ flag: string; label: string; kind: TFieldKind; type: TCondition['type'] }> = [
  { flag: 'recipient-outside', label: 'The recipient is outside the organisation', kind: 'bool', type: 'recipientOutside' },
  { flag: 'recipient-domain', label: "The recipient's domain is one of (one a line)", kind: 'list', type: 'recipientDomain' },
  { flag: 'sender', label: 'The sender is one of (addresses or domains, one a line)', kind: 'list', type: 'sender' },
  { flag: 'subject-contains', label: 'The subject contains one of these words (one a line)', kind: 'lines', type: 'subjectContains' },
  {
    flag: 'body-contains',
    label: 'The subject or body contains one of these words (one a line)',
    kind: 'lines',
    type: 'subjectOrBodyContains',
  },
  { flag: 'header', label: 'A header contains a value (Name: value, one a line)', kind: 'lines', type: 'header' },
  { flag: 'header-equals', label: 'A header is exactly a value (Name: value, one a line)', kind: 'lines', type: 'header' },
  { flag: 'larger-than', label: 'The message is larger than (bytes)', kind: 'bytes', type: 'largerThan' },
  { flag: 'has-attachment', label: 'The message has an attachment', kind: 'bool', type: 'hasAttachment' },
];

const OTHER_FIELDS = ['name', 'action', 'template', 'reject-text', 'remove-keyword', 'stop', 'enabled', 'original'] as const;

// Every field name the form sends, for carrying what was typed back to it.
export const RULE_FORM_FIELDS: readonly string[] = [...OTHER_FIELDS, ...RULE_CONDITION_FIELDS.flatMap((f) => [f.flag, `not-${f.flag}`])];

export type TRuleFormValues = Record<string, string>;
type TFormLike = { get(name: string): string | null };

const split = (value: string, kind: TFieldKind) =>
  value
    .split(kind === 'list' ? /[\n,]/ : /\n/)
    .map((s) => s.replace(/\r$/, ''))
    .filter((s) => s.trim() !== '');

// The form's values (a posted form, or the query string that carries a refused one back) as the
// flags `sealpost rules add` takes: the same shape checks, then the same schema.
export function ruleFlagsFromForm(form: TFormLike): TRuleFlags {
  const value = (name: string) => form.get(name) ?? '';
  const flags: TRuleFlags = { name: value('name') };
  for (const field of RULE_CONDITION_FIELDS) {
    for (const flag of [field.flag, `not-${field.flag}`]) {
      const v = value(flag);
      if (field.kind === 'bool') flags[flag] = v === 'on';
      else if (field.kind === 'bytes') flags[flag] = v.trim() === '' ? undefined : v.trim();
      else flags[flag] = split(v, field.kind);
    }
  }
  const action = value('action');
  flags.action = action;
  if (action === 'encrypt') {
    flags.template = value('template') || DEFAULT_TEMPLATE;
    flags['remove-keyword'] = value('remove-keyword') === 'on';
  }
  if (action === 'reject') flags['reject-text'] = value('reject-text');
  flags.stop = value('stop') === 'on';
  flags.disabled = value('enabled') !== 'on';
  return flags;
}

// The rule input a form describes (unvalidated: addRule and updateRule validate it).
export const ruleInputFromForm = (form: TFormLike): unknown => ruleInputFromFlags(ruleFlagsFromForm(form)).input;

// What is wrong with a form's values, each problem named by its field: shown beside what was
// typed when a save is refused. Empty when the rule itself is valid (a refusal came from the set:
// a name taken, a template gone).
export function ruleFormProblems(values: TRuleFormValues): string[] {
  const form = { get: (name: string) => values[name] ?? null };
  try {
    const input = ruleInputFromForm(form);
    const parsed = ZRule.safeParse(input);
    if (parsed.success) return [];
    const problems = toInvalidRules(parsed.error, input, 'Invalid rule').details?.problems;
    return Array.isArray(problems) ? problems.map(String) : [];
  } catch (error) {
    if (isAppError(error)) return [error.message.replace(/--(not-)?([a-z-]+)/g, (_, not, flag) => labelOf(flag, Boolean(not)))];
    throw error;
  }
}

const labelOf = (flag: string, isNot: boolean) => {
  const field = RULE_CONDITION_FIELDS.find((f) => f.flag === flag);
  const label = field ? `“${field.label}”` : `“${flag}”`;
  return isNot ? `${label} (except if)` : label;
};

// A stored rule as the form's values; null when the form cannot show it faithfully (an imported
// rule with two conditions of one kind and polarity, which the form would merge into one).
export function ruleToForm(rule: TRule): TRuleFormValues | null {
  const values: TRuleFormValues = {
    name: rule.name,
    original: rule.name,
    action: rule.action.kind,
    template: rule.action.kind === 'encrypt' ? rule.action.template : DEFAULT_TEMPLATE,
    'reject-text': rule.action.kind === 'reject' ? rule.action.text : '',
    ...(rule.action.kind === 'encrypt' && rule.action.removeKeyword ? { 'remove-keyword': 'on' } : {}),
    ...(rule.stop ? { stop: 'on' } : {}),
    ...(rule.enabled ? { enabled: 'on' } : {}),
  };
  const add = (flag: string, text: string) => {
    values[flag] = values[flag] ? `${values[flag]}\n${text}` : text;
  };
  for (const c of rule.conditions) {
    const prefix = c.negate ? 'not-' : '';
    const flagOf = (f: string) => `${prefix}${f}`;
    if (c.type === 'header') {
      add(flagOf(c.match === 'equals' ? 'header-equals' : 'header'), `${c.name}: ${c.value}`);
      continue;
    }
    const field = RULE_CONDITION_FIELDS.find((f) => f.type === c.type)!;
    const flag = flagOf(field.flag);
    if (values[flag] !== undefined) return null;
    if (c.type === 'recipientOutside' || c.type === 'hasAttachment') values[flag] = 'on';
    else if (c.type === 'largerThan') values[flag] = String(c.bytes);
    else if (c.type === 'recipientDomain') values[flag] = c.domains.join('\n');
    else if (c.type === 'sender') values[flag] = c.senders.join('\n');
    else values[flag] = c.words.join('\n');
  }
  return values;
}

// The edit page's address with what was typed, for a refused save (no JavaScript: the form comes
// back as the admin left it). Past a length a browser or proxy may refuse, only the rule's name.
export function refusedRuleFormUrl(form: TFormLike, code: string): string {
  const query = new URLSearchParams({ typed: '1', error: code });
  for (const name of RULE_FORM_FIELDS) {
    const v = form.get(name);
    if (v) query.set(name, v);
  }
  const url = `/admin/rules/edit?${query.toString()}`;
  if (url.length <= 8000) return url;
  const original = form.get('original');
  return `/admin/rules/edit?${new URLSearchParams({ ...(original ? { rule: original } : {}), error: code }).toString()}`;
}
