import { inboundRouteInputFromForm, refusedInboundRouteFormUrl } from '@/lib/admin/connectors/inbound-route-form';
import { adminActor } from '@/lib/admin/roles';
import { isAppError } from '@/lib/errors';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';
import { setInboundRoute } from '@/lib/relay/inbound-route';

export const runtime = 'nodejs';

// POST /admin/connectors/inbound – the tenant's inbound route set or replaced (admin or owner); a
// refused one goes back to the form with what was typed and why
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    try {
      await setInboundRoute({ db: ctx.db, tenant, input: inboundRouteInputFromForm(form), actor: adminActor(session.admin) });
    } catch (error) {
      if (isAppError(error) && error.code === 'BAD_REQUEST') return seeOther(refusedInboundRouteFormUrl(form));
      throw error;
    }
    return seeOther('/admin/connectors?done=inbound-set');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/connectors', what: 'inbound route set' },
);
