import { refusedRuleFormUrl } from '@/lib/admin/rules/rule-form';
import { saveAdminRule } from '@/lib/admin/rules/save-admin-rule';
import { adminActor } from '@/lib/admin/roles';
import { isAppError } from '@/lib/errors';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/rules/save – add a rule, or change one (admin or owner); a refused one goes back to
// its form with what was typed and why
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request, maxBytes: 60 * 1024 });
    try {
      await saveAdminRule({ db: ctx.db, tenantId: tenant.id, form, actor: adminActor(session.admin) });
    } catch (error) {
      if (isAppError(error) && (error.code === 'BAD_REQUEST' || error.code === 'CONFLICT'))
        return seeOther(refusedRuleFormUrl(form, error.code));
      throw error;
    }
    return seeOther('/admin/rules?done=saved');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/rules', what: 'rule save' },
);
