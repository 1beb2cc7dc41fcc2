import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { recordRuleChange } from './record-rule-change';
import { toInvalidRules, updateRuleSet } from './rule-set-store';
import { ZRule, type TRule } from './schema';

export type AddRuleOptions = {
  db: TDb;
  tenantId: string;
  input: unknown;
  // 1-based place in the priority order; the end when absent.
  position?: number;
  // Who added it, for the audit event.
  actor?: string;
  now?: number;
};

export async function addRule({
  db,
  tenantId,
  input,
  position,
  actor = 'cli',
  now = Date.now(),
}: AddRuleOptions): Promise<{ rule: TRule; position: number }> {
  const parsed = ZRule.safeParse(input);
  if (!parsed.success) throw toInvalidRules(parsed.error, input, 'Invalid rule');
  const rule = parsed.data;
  let placed = 0;
  await updateRuleSet({
    db,
    tenantId,
    now,
    change: (current) => {
      if (current.rules.some((r) => r.name.toLowerCase() === rule.name.toLowerCase()))
        throw new AppError('CONFLICT', `Invalid rule: name: a rule named "${rule.name}" already exists`);
      const last = current.rules.length + 1;
      placed = position ?? last;
      if (!Number.isInteger(placed) || placed < 1 || placed > last)
        throw new AppError('BAD_REQUEST', `Invalid rule: priority: must be a position from 1 to ${last}`);
      const rules = [...current.rules];
      rules.splice(placed - 1, 0, rule);
      return { ...current, rules };
    },
    onChanged: (trx, { after }) =>
      recordRuleChange(trx, { tenantId, type: 'rule_added', actor, before: null, after: { name: rule.name, set: after }, at: now }),
  });
  return { rule, position: placed };
}
