import { adminActor } from '@/lib/admin/roles';
import { removeConnector } from '@/lib/connectors/remove-connector';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/connectors/remove – a partner domain's connector removed (admin or owner)
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    await removeConnector({ db: ctx.db, tenant, domain: form.get('domain') ?? '', actor: adminActor(session.admin) });
    return seeOther('/admin/connectors?done=removed');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/connectors', what: 'connector removal' },
);
