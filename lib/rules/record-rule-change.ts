import type { Transaction } from 'kysely';
import { recordAudit } from '../audit/record-audit';
import type { TDatabase } from '../store/schema';
import type { TRuleSet } from './schema';

export type RecordRuleChangeOptions = {
  tenantId: string;
  type: 'rule_added' | 'rule_changed' | 'rule_moved' | 'rule_removed';
  actor: string;
  // The rule's name before the change, and after it (a rename changes it; a removal has none after).
  before: { name: string; set: TRuleSet } | null;
  after: { name: string; set: TRuleSet } | null;
  at: number;
};

const find = (side: RecordRuleChangeOptions['before']) => {
  if (!side) return null;
  const i = side.set.rules.findIndex((r) => r.name.toLowerCase() === side.name.toLowerCase());
  return i < 0 ? null : JSON.stringify({ position: i + 1, ...side.set.rules[i] });
};

// A rule change in the audit log: the rule as it was and as it is (with its position), as JSON.
export async function recordRuleChange(trx: Transaction<TDatabase>, o: RecordRuleChangeOptions): Promise<void> {
  await recordAudit(trx, {
    tenantId: o.tenantId,
    type: o.type,
    actor: o.actor,
    data: { rule: (o.after ?? o.before)!.name, before: find(o.before), after: find(o.after) },
    at: o.at,
  });
}
