import { limitAdminSignIn } from '@/lib/admin/limit-admin-signin';
import { relyingParty } from '@/lib/admin/relying-party';
import { startPasskeySignIn } from '@/lib/admin/start-passkey-signin';
import { adminRoute } from '@/lib/http/admin-route';
import { jsonResponse } from '@/lib/http/admin-responses';
import { clientIp } from '@/lib/http/client-address';
import { readJsonBody } from '@/lib/http/read-json-body';

export const runtime = 'nodejs';

// POST /admin/signin/options – a sign-in (or re-verification) challenge for the page's passkey
export const POST = adminRoute<{ host: string }, { role: 'public' }>(
  async ({ request, params, ctx, tenant }) => {
    await readJsonBody({ request });
    await limitAdminSignIn({ db: ctx.db, tenantId: tenant.id, ip: clientIp(request.headers) });
    const rp = relyingParty({ config: ctx.config, host: params.host, tenantName: tenant.name });
    return jsonResponse(await startPasskeySignIn({ ctx, tenant, rp }));
  },
  { access: { role: 'public' }, what: 'admin sign-in options' },
);
