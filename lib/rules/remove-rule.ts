import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { updateRuleSet } from './rule-set-store';

export type RemoveRuleOptions = { db: TDb; tenantId: string; name: string };

export async function removeRule({ db, tenantId, name }: RemoveRuleOptions): Promise<{ removed: string; remaining: number }> {
  const set = await updateRuleSet({
    db,
    tenantId,
    change: (current) => {
      const rules = current.rules.filter((r) => r.name.toLowerCase() !== name.trim().toLowerCase());
      if (rules.length === current.rules.length) throw new AppError('NOT_FOUND', `No rule named "${name}"`);
      return { ...current, rules };
    },
  });
  return { removed: name.trim(), remaining: set.rules.length };
}
