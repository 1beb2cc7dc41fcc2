import { changeIdentityProvider } from '@/lib/admin/manage-identity-providers';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/identity-providers/remove – a provider no reader or admin signs in with any more
// (admin or owner)
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    await changeIdentityProvider({ ctx, tenant, change: { kind: 'remove', name: form.get('name') ?? '' }, admin: session.admin });
    return seeOther('/admin/identity-providers?done=removed');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/identity-providers', what: 'identity provider remove' },
);
