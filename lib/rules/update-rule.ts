import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { recordRuleChange } from './record-rule-change';
import { toInvalidRules, updateRuleSet } from './rule-set-store';
import { ZRule, type TRule } from './schema';

export type UpdateRuleOptions = {
  db: TDb;
  tenantId: string;
  // The rule to change, by its current name.
  name: string;
  // The whole rule as it should be (validated as `rules add` validates); it keeps its position and
  // may take a new name, not another rule's.
  input: unknown;
  actor?: string;
  now?: number;
};

export async function updateRule({
  db,
  tenantId,
  name,
  input,
  actor = 'cli',
  now = Date.now(),
}: UpdateRuleOptions): Promise<{ rule: TRule; position: number }> {
  const parsed = ZRule.safeParse(input);
  if (!parsed.success) throw toInvalidRules(parsed.error, input, 'Invalid rule');
  const rule = parsed.data;
  const key = name.trim().toLowerCase();
  let position = 0;
  await updateRuleSet({
    db,
    tenantId,
    now,
    change: (current) => {
      const at = current.rules.findIndex((r) => r.name.toLowerCase() === key);
      if (at < 0) throw new AppError('NOT_FOUND', `No rule named "${name}"`);
      if (current.rules.some((r, i) => i !== at && r.name.toLowerCase() === rule.name.toLowerCase()))
        throw new AppError('CONFLICT', `Invalid rule: name: a rule named "${rule.name}" already exists`);
      position = at + 1;
      return { ...current, rules: current.rules.map((r, i) => (i === at ? rule : r)) };
    },
    onChanged: (trx, { before, after }) =>
      recordRuleChange(trx, {
        tenantId,
        type: 'rule_changed',
        actor,
        before: { name: name.trim(), set: before },
        after: { name: rule.name, set: after },
        at: now,
      }),
  });
  return { rule, position };
}
