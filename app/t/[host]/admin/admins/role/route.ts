import { changeAdminRole } from '@/lib/admin/change-admin-role';
import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/admins/role – an owner gives an admin another role (not the last owner's)
export const POST = adminRoute<{ host: string }, { role: 'owner' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    await changeAdminRole({
      db: ctx.db,
      tenantId: tenant.id,
      email: form.get('email') ?? '',
      role: form.get('role') ?? '',
      actor: adminActor(session.admin),
    });
    return seeOther('/admin/admins?done=role');
  },
  { access: { role: 'owner' }, backTo: () => '/admin/admins', what: 'admin role' },
);
