import { adminActor } from '@/lib/admin/roles';
import { rotateTenantKey } from '@/lib/admin/rotate-tenant-key';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/keys/rotate – a new tenant key version (admin or owner, re-verified)
export const POST = adminRoute<{ host: string }, { role: 'admin'; isSensitive: true }>(
  async ({ request, ctx, tenant, session }) => {
    await readSmallForm({ request });
    await rotateTenantKey({ ctx, tenantId: tenant.id, actor: adminActor(session.admin) });
    return seeOther('/admin/keys?done=rotated');
  },
  { access: { role: 'admin', isSensitive: true }, backTo: () => '/admin/keys', what: 'key rotate' },
);
