import { recordAudit } from '../../audit/record-audit';
import { AppError } from '../../errors';
import { loadRuleSet } from '../../rules/rule-set-store';
import type { TDb } from '../../store/db';
import { deleteTemplate } from '../../templates/delete-template';

export type DeleteAdminTemplateOptions = { db: TDb; tenantId: string; template: string; actor: string; now?: number };

// deleteTemplate (not the default, not one a live message uses), and not one a mail-flow rule or
// the default action still names: the next message would fall back to the default's looser policy.
export async function deleteAdminTemplate({ db, tenantId, template, actor, now = Date.now() }: DeleteAdminTemplateOptions) {
  const set = await loadRuleSet({ db, tenantId });
  const users = set.rules.filter((r) => r.action.kind === 'encrypt' && r.action.template === template).map((r) => r.name);
  if (set.defaultAction.kind === 'encrypt' && set.defaultAction.template === template) users.push('(default action)');
  if (users.length) throw new AppError('CONFLICT', `Template "${template}" is used by rules: ${users.join(', ')}`);
  await deleteTemplate({ db, tenantId, template, now });
  await recordAudit(db, {
    tenantId,
    type: 'template_deleted',
    actor,
    data: { template, before: JSON.stringify({ template }), after: null },
    at: now,
  });
}
