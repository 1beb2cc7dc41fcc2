import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { seeOther } from '@/lib/http/see-other';
import { removeInboundRoute } from '@/lib/relay/inbound-route';

export const runtime = 'nodejs';

// POST /admin/connectors/inbound/remove – the tenant's inbound route removed (admin or owner)
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ ctx, tenant, session }) => {
    await removeInboundRoute({ db: ctx.db, tenant, actor: adminActor(session.admin) });
    return seeOther('/admin/connectors?done=inbound-removed');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/connectors', what: 'inbound route removal' },
);
