import { revokeAdminMessage } from '@/lib/admin/revoke-admin-message';
import { AppError } from '@/lib/errors';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

type TParams = { host: string; id: string };

// POST /admin/messages/<id>/revoke – revoke a message of this tenant (admin or owner, confirmed,
// with a passkey check in the last 5 minutes)
export const POST = adminRoute<TParams, { role: 'admin'; isSensitive: true }>(
  async ({ request, params, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    if (form.get('confirm') !== 'yes') throw new AppError('BAD_REQUEST', 'Confirm the revocation.');
    await revokeAdminMessage({ db: ctx.db, master: ctx.master, tenantId: tenant.id, messageId: params.id, session });
    return seeOther(`/admin/messages/${params.id}?revoked=1`);
  },
  { access: { role: 'admin', isSensitive: true }, backTo: (p) => `/admin/messages/${p.id}`, what: 'admin revoke' },
);
