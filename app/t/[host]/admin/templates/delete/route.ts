import { adminActor } from '@/lib/admin/roles';
import { deleteAdminTemplate } from '@/lib/admin/templates/delete-admin-template';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/templates/delete – remove a template: not the default, not one a live message or a
// rule still uses (admin or owner)
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    await deleteAdminTemplate({ db: ctx.db, tenantId: tenant.id, template: form.get('template') ?? '', actor: adminActor(session.admin) });
    return seeOther('/admin/templates?done=deleted');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/templates', what: 'template delete' },
);
