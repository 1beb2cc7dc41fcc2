import { changeIdentityProvider } from '@/lib/admin/manage-identity-providers';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/identity-providers/admins – whether the tenant's admins sign in with a provider
// (owner, re-verified: such a provider can assert any admin's address)
export const POST = adminRoute<{ host: string }, { role: 'owner'; isSensitive: true }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    const change = { kind: 'setForAdmins' as const, name: form.get('name') ?? '', forAdmins: form.get('forAdmins') === '1' };
    await changeIdentityProvider({ ctx, tenant, change, admin: session.admin });
    return seeOther('/admin/identity-providers?done=changed');
  },
  { access: { role: 'owner', isSensitive: true }, backTo: () => '/admin/identity-providers', what: 'identity provider admins' },
);
