import { changeCredential } from '@/lib/admin/manage-credentials';
import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { secretOnceResponse } from '@/lib/http/secret-once-response';

export const runtime = 'nodejs';

// POST /admin/credentials/api-keys – a new API key (admin or owner, re-verified), shown once
export const POST = adminRoute<{ host: string }, { role: 'admin'; isSensitive: true }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    const label = (form.get('label') ?? '').slice(0, 100);
    const created = await changeCredential({
      db: ctx.db,
      tenant,
      change: { kind: 'createApiKey', label },
      actor: adminActor(session.admin),
    });
    return secretOnceResponse({
      tenantName: tenant.name,
      title: 'New API key',
      values: [{ label: `API key "${label || 'default'}"`, value: created!.secret }],
      backTo: '/admin/credentials',
      backLabel: 'Back to API keys and relay credentials',
    });
  },
  { access: { role: 'admin', isSensitive: true }, backTo: () => '/admin/credentials', what: 'api key create' },
);
