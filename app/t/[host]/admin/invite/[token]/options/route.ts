import { limitAdminSignIn } from '@/lib/admin/limit-admin-signin';
import { relyingParty } from '@/lib/admin/relying-party';
import { startPasskeyRegistration } from '@/lib/admin/start-passkey-registration';
import { adminRoute } from '@/lib/http/admin-route';
import { jsonResponse } from '@/lib/http/admin-responses';
import { clientIp } from '@/lib/http/client-address';
import { readJsonBody } from '@/lib/http/read-json-body';

export const runtime = 'nodejs';

type TParams = { host: string; token: string };

// POST /admin/invite/<token>/options – what the browser needs to make a passkey for this invitation
export const POST = adminRoute<TParams, { role: 'public' }>(
  async ({ request, params, ctx, tenant }) => {
    await readJsonBody({ request });
    await limitAdminSignIn({ db: ctx.db, tenantId: tenant.id, ip: clientIp(request.headers) });
    const rp = relyingParty({ config: ctx.config, host: params.host, tenantName: tenant.name });
    return jsonResponse(await startPasskeyRegistration({ ctx, tenant, rp, from: { token: params.token } }));
  },
  { access: { role: 'public' }, what: 'admin invitation options' },
);
