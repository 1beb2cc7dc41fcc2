import { changeCredential } from '@/lib/admin/manage-credentials';
import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { secretOnceResponse } from '@/lib/http/secret-once-response';

export const runtime = 'nodejs';

// POST /admin/credentials/relay – a new SMTP relay credential (admin or owner, re-verified), shown once
export const POST = adminRoute<{ host: string }, { role: 'admin'; isSensitive: true }>(
  async ({ request, ctx, tenant, session }) => {
    await readSmallForm({ request });
    const created = await changeCredential({
      db: ctx.db,
      tenant,
      change: { kind: 'createRelayCredential' },
      actor: adminActor(session.admin),
    });
    return secretOnceResponse({
      tenantName: tenant.name,
      title: 'New relay credential',
      values: [
        { label: 'Username', value: created!.name },
        { label: 'Password', value: created!.secret },
      ],
      backTo: '/admin/credentials',
      backLabel: 'Back to API keys and relay credentials',
    });
  },
  { access: { role: 'admin', isSensitive: true }, backTo: () => '/admin/credentials', what: 'relay credential create' },
);
