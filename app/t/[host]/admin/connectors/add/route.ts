import { connectorInputFromForm, refusedConnectorFormUrl } from '@/lib/admin/connectors/connector-form';
import { adminActor } from '@/lib/admin/roles';
import { addConnector } from '@/lib/connectors/add-connector';
import { isAppError } from '@/lib/errors';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/connectors/add – a connector for a partner domain (admin or owner); a refused one
// goes back to the form with what was typed and why
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    try {
      await addConnector({ db: ctx.db, tenant, input: connectorInputFromForm(form), actor: adminActor(session.admin) });
    } catch (error) {
      if (isAppError(error) && (error.code === 'BAD_REQUEST' || error.code === 'CONFLICT'))
        return seeOther(refusedConnectorFormUrl(form, error.code));
      throw error;
    }
    return seeOther('/admin/connectors?done=added');
  },
  { access: { role: 'admin' }, backTo: () => '/admin/connectors', what: 'connector add' },
);
