import type { TDb } from '../store/db';
import { updateRuleSet } from './rule-set-store';
import type { TRuleSet } from './schema';

export type SetRuleSettingsOptions = {
  db: TDb;
  tenantId: string;
  // What happens when no rule matches: { kind: 'pass' } or { kind: 'encrypt', template }.
  defaultAction?: unknown;
  // Domains inside the organisation besides the tenant's mail domain; replaces the list.
  internalDomains?: unknown;
};

export async function setRuleSettings({
  db,
  tenantId,
  defaultAction,
  internalDomains,
}: SetRuleSettingsOptions): Promise<Pick<TRuleSet, 'defaultAction' | 'internalDomains'>> {
  const set = await updateRuleSet({
    db,
    tenantId,
    change: (current) => ({
      ...current,
      ...(defaultAction !== undefined ? { defaultAction } : {}),
      ...(internalDomains !== undefined ? { internalDomains } : {}),
    }),
  });
  return { defaultAction: set.defaultAction, internalDomains: set.internalDomains };
}
