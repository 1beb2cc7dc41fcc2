import { removeAdmin } from '@/lib/admin/remove-admin';
import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/admins/remove – an owner removes an admin (never the last owner)
export const POST = adminRoute<{ host: string }, { role: 'owner' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    await removeAdmin({ db: ctx.db, tenantId: tenant.id, email: form.get('email') ?? '', actor: adminActor(session.admin) });
    return seeOther('/admin/admins?done=removed');
  },
  { access: { role: 'owner' }, backTo: () => '/admin/admins', what: 'admin remove' },
);
