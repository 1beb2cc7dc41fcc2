import { inviteAdmin } from '@/lib/admin/invite-admin';
import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { secretOnceResponse } from '@/lib/http/secret-once-response';

export const runtime = 'nodejs';

// POST /admin/admins/invite – an owner invites an admin (re-verified); the link is shown once
export const POST = adminRoute<{ host: string }, { role: 'owner'; isSensitive: true }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    const input = { email: form.get('email') ?? '', role: form.get('role') ?? '' };
    const invited = await inviteAdmin({ ctx, tenant, input, actor: adminActor(session.admin) });
    return secretOnceResponse({
      tenantName: tenant.name,
      title: `Invitation for ${invited.email}`,
      values: [{ label: `Send this link to ${invited.email} (valid 24 hours, works once)`, value: invited.link }],
      backTo: '/admin/admins',
      backLabel: 'Back to admins',
    });
  },
  { access: { role: 'owner', isSensitive: true }, backTo: () => '/admin/admins', what: 'admin invite' },
);
