import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { recordRuleChange } from './record-rule-change';
import { updateRuleSet } from './rule-set-store';

export type RemoveRuleOptions = { db: TDb; tenantId: string; name: string; actor?: string; now?: number };

export async function removeRule({
  db,
  tenantId,
  name,
  actor = 'cli',
  now = Date.now(),
}: RemoveRuleOptions): Promise<{ removed: string; remaining: number }> {
  const set = await updateRuleSet({
    db,
    tenantId,
    now,
    change: (current) => {
      const rules = current.rules.filter((r) => r.name.toLowerCase() !== name.trim().toLowerCase());
      if (rules.length === current.rules.length) throw new AppError('NOT_FOUND', `No rule named "${name}"`);
      return { ...current, rules };
    },
    onChanged: (trx, { before }) =>
      recordRuleChange(trx, { tenantId, type: 'rule_removed', actor, before: { name: name.trim(), set: before }, after: null, at: now }),
  });
  return { removed: name.trim(), remaining: set.rules.length };
}
