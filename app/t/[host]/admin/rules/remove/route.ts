import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';
import { removeRule } from '@/lib/rules/remove-rule';

export const runtime = 'nodejs';

// POST /admin/rules/remove – a rule out of the set (admin or owner)
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    await removeRule({ db: ctx.db, tenantId: tenant.id, name: form.get('name') ?? '', actor: adminActor(session.admin) });
    return seeOther('/admin/rules?done=removed');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/rules', what: 'rule removal' },
);
