import { adminActor } from '@/lib/admin/roles';
import { AppError } from '@/lib/errors';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';
import { moveRule } from '@/lib/rules/move-rule';

export const runtime = 'nodejs';

// POST /admin/rules/move – a rule to another place in the priority order (admin or owner)
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    const to = form.get('to') ?? '';
    if (!/^\d{1,6}$/.test(to)) throw new AppError('BAD_REQUEST', 'to: must be a position (1 is first)');
    await moveRule({ db: ctx.db, tenantId: tenant.id, name: form.get('name') ?? '', to: Number(to), actor: adminActor(session.admin) });
    return seeOther('/admin/rules?done=moved');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/rules', what: 'rule move' },
);
