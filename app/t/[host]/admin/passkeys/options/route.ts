import { relyingParty } from '@/lib/admin/relying-party';
import { startPasskeyRegistration } from '@/lib/admin/start-passkey-registration';
import { adminRoute } from '@/lib/http/admin-route';
import { jsonResponse } from '@/lib/http/admin-responses';
import { readJsonBody } from '@/lib/http/read-json-body';

export const runtime = 'nodejs';

// POST /admin/passkeys/options – what the browser needs to make another passkey for this admin
// (re-verified: a stolen session must not be able to plant its own passkey)
export const POST = adminRoute<{ host: string }, { role: 'auditor'; isSensitive: true }>(
  async ({ request, params, ctx, tenant, session }) => {
    await readJsonBody({ request });
    const rp = relyingParty({ config: ctx.config, host: params.host, tenantName: tenant.name });
    return jsonResponse(await startPasskeyRegistration({ ctx, tenant, rp, from: { adminId: session.admin.id } }));
  },
  { access: { role: 'auditor', isSensitive: true }, backTo: () => '/admin/passkeys', what: 'passkey options' },
);
