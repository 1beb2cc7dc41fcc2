import { changeCredential } from '@/lib/admin/manage-credentials';
import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/credentials/relay/revoke – a relay credential stops working (admin or owner)
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    const change = { kind: 'revokeRelayCredential', username: form.get('username') ?? '' } as const;
    await changeCredential({ db: ctx.db, tenant, change, actor: adminActor(session.admin) });
    return seeOther('/admin/credentials?done=revoked');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/credentials', what: 'relay credential revoke' },
);
