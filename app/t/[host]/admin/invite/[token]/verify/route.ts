import { createAdminSession } from '@/lib/admin/admin-session';
import { finishPasskeyRegistration } from '@/lib/admin/finish-passkey-registration';
import { relyingParty } from '@/lib/admin/relying-party';
import { adminRoute } from '@/lib/http/admin-route';
import { signedInResponse } from '@/lib/http/admin-responses';
import { readJsonBody } from '@/lib/http/read-json-body';

export const runtime = 'nodejs';

type TParams = { host: string; token: string };

// POST /admin/invite/<token>/verify – the new passkey: the invitation is spent, the admin made
// and signed in
export const POST = adminRoute<TParams, { role: 'public' }>(
  async ({ request, params, ctx, tenant }) => {
    const body = await readJsonBody({ request });
    const rp = relyingParty({ config: ctx.config, host: params.host, tenantName: tenant.name });
    const { adminId } = await finishPasskeyRegistration({
      ctx,
      tenant,
      rp,
      challengeId: String(body.challengeId ?? ''),
      response: body.response,
      from: { token: params.token },
      label: typeof body.label === 'string' ? body.label : undefined,
    });
    const cookie = await createAdminSession({ ctx, tenant, adminId });
    return signedInResponse({ config: ctx.config, cookie, next: '/admin/messages' });
  },
  { access: { role: 'public' }, what: 'admin invitation' },
);
