import { createAdminSession, endAdminSession } from '@/lib/admin/admin-session';
import { finishPasskeySignIn } from '@/lib/admin/finish-passkey-signin';
import { relyingParty } from '@/lib/admin/relying-party';
import { adminRoute } from '@/lib/http/admin-route';
import { safeAdminNext, signedInResponse } from '@/lib/http/admin-responses';
import { readJsonBody } from '@/lib/http/read-json-body';

export const runtime = 'nodejs';

// POST /admin/signin/verify – the passkey's answer: a new session, verified now (the one before
// it, if any, ends: a re-verification replaces the session rather than extending it)
export const POST = adminRoute<{ host: string }, { role: 'public' }>(
  async ({ request, params, ctx, tenant, session }) => {
    const body = await readJsonBody({ request });
    const rp = relyingParty({ config: ctx.config, host: params.host, tenantName: tenant.name });
    const { adminId } = await finishPasskeySignIn({
      ctx,
      tenant,
      rp,
      challengeId: String(body.challengeId ?? ''),
      response: body.response,
    });
    if (session) await endAdminSession({ ctx, tenant, session });
    const cookie = await createAdminSession({ ctx, tenant, adminId });
    return signedInResponse({ config: ctx.config, cookie, next: safeAdminNext(body.next) });
  },
  { access: { role: 'public' }, what: 'admin sign-in' },
);
