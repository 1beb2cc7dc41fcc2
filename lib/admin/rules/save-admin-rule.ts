import { addRule } from '../../rules/add-rule';
import { updateRule } from '../../rules/update-rule';
import type { TDb } from '../../store/db';
import { ruleInputFromForm } from './rule-form';

export type SaveAdminRuleOptions = { db: TDb; tenantId: string; form: { get(name: string): string | null }; actor: string };

// The console's rule form saved: a new rule goes last (the list's arrows move it), a changed one
// keeps its place. The same shape checks and schema as `sealpost rules add`; audited by the verbs.
export async function saveAdminRule({ db, tenantId, form, actor }: SaveAdminRuleOptions) {
  const input = ruleInputFromForm(form);
  const original = form.get('original');
  return original ? updateRule({ db, tenantId, name: original, input, actor }) : addRule({ db, tenantId, input, actor });
}
