import { changeIdentityProvider } from '@/lib/admin/manage-identity-providers';
import { isAppError } from '@/lib/errors';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/identity-providers/add – a tenant's own OpenID provider, after the discovery check
// (admin or owner, re-verified; letting it sign admins in: an owner)
export const POST = adminRoute<{ host: string }, { role: 'admin'; isSensitive: true }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    const input = {
      name: form.get('name') ?? '',
      displayName: form.get('displayName') ?? '',
      issuer: (form.get('issuer') ?? '').trim(),
      clientId: (form.get('clientId') ?? '').trim(),
      clientSecret: (form.get('clientSecret') ?? '').trim(),
      trustedDomains: (form.get('trustedDomains') ?? '').split(/[\s,]+/).filter(Boolean),
      forAdmins: form.get('forAdmins') === 'on',
    };
    try {
      await changeIdentityProvider({ ctx, tenant, change: { kind: 'add', input }, admin: session.admin });
    } catch (error) {
      if (isAppError(error) && error.details?.reason === 'discovery') return seeOther('/admin/identity-providers?error=DISCOVERY');
      throw error;
    }
    return seeOther('/admin/identity-providers?done=added');
  },
  { access: { role: 'admin', isSensitive: true }, backTo: () => '/admin/identity-providers', what: 'identity provider add' },
);
