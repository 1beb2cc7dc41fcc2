import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { recordRuleChange } from './record-rule-change';
import { updateRuleSet } from './rule-set-store';

export type MoveRuleOptions = { db: TDb; tenantId: string; name: string; to: number; actor?: string; now?: number };

// Moves a rule to a 1-based place in the priority order; the others keep their relative order.
export async function moveRule({ db, tenantId, name, to, actor = 'cli', now = Date.now() }: MoveRuleOptions): Promise<{ order: string[] }> {
  const set = await updateRuleSet({
    db,
    tenantId,
    now,
    change: (current) => {
      const from = current.rules.findIndex((r) => r.name.toLowerCase() === name.trim().toLowerCase());
      if (from < 0) throw new AppError('NOT_FOUND', `No rule named "${name}"`);
      if (!Number.isInteger(to) || to < 1 || to > current.rules.length)
        throw new AppError('BAD_REQUEST', `to: must be a position from 1 to ${current.rules.length}`);
      const rules = [...current.rules];
      const [rule] = rules.splice(from, 1);
      rules.splice(to - 1, 0, rule!);
      return { ...current, rules };
    },
    onChanged: (trx, { before, after }) =>
      recordRuleChange(trx, {
        tenantId,
        type: 'rule_moved',
        actor,
        before: { name: name.trim(), set: before },
        after: { name: name.trim(), set: after },
        at: now,
      }),
  });
  return { order: set.rules.map((r) => r.name) };
}
