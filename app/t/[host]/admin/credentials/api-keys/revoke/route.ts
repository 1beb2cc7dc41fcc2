import { changeCredential } from '@/lib/admin/manage-credentials';
import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/credentials/api-keys/revoke – an API key stops working (admin or owner)
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    await changeCredential({
      db: ctx.db,
      tenant,
      change: { kind: 'revokeApiKey', id: form.get('id') ?? '' },
      actor: adminActor(session.admin),
    });
    return seeOther('/admin/credentials?done=revoked');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/credentials', what: 'api key revoke' },
);
