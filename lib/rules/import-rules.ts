import type { TDb } from '../store/db';
import { parseRuleSet, updateRuleSet } from './rule-set-store';
import type { TRuleSet } from './schema';

export type ImportRulesOptions = { db: TDb; tenantId: string; input: unknown };

// Replaces the tenant's whole set (rules, default action, internal domains) with the file's, in
// one transaction, or changes nothing when any part of it is refused.
export async function importRules({ db, tenantId, input }: ImportRulesOptions): Promise<TRuleSet> {
  const next = parseRuleSet(input);
  return updateRuleSet({ db, tenantId, change: () => next });
}
