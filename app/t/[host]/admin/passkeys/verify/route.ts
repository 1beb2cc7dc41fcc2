import { finishPasskeyRegistration } from '@/lib/admin/finish-passkey-registration';
import { relyingParty } from '@/lib/admin/relying-party';
import { adminRoute } from '@/lib/http/admin-route';
import { jsonResponse } from '@/lib/http/admin-responses';
import { readJsonBody } from '@/lib/http/read-json-body';

export const runtime = 'nodejs';

// POST /admin/passkeys/verify – the new passkey, stored for the signed-in admin
export const POST = adminRoute<{ host: string }, { role: 'auditor'; isSensitive: true }>(
  async ({ request, params, ctx, tenant, session }) => {
    const body = await readJsonBody({ request });
    const rp = relyingParty({ config: ctx.config, host: params.host, tenantName: tenant.name });
    await finishPasskeyRegistration({
      ctx,
      tenant,
      rp,
      challengeId: String(body.challengeId ?? ''),
      response: body.response,
      from: { adminId: session.admin.id },
      label: typeof body.label === 'string' ? body.label : undefined,
    });
    return jsonResponse({ ok: true, next: '/admin/passkeys?done=added' });
  },
  { access: { role: 'auditor', isSensitive: true }, backTo: () => '/admin/passkeys', what: 'passkey add' },
);
