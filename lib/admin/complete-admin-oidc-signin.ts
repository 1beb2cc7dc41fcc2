import { recordAudit } from '../audit/record-audit';
import { consumeHandoff } from '../auth/federated/federated-signin';
import { getProvider } from '../auth/federated/identity-providers';
import { isAppError } from '../errors';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { createAdminSession } from './admin-session';

export type CompleteAdminOidcSignInOptions = {
  ctx: TContext;
  tenant: TTenant;
  id: string;
  handoff: string;
  cookieValue: string | undefined;
  now?: number;
};

export type TAdminOidcOutcome =
  | { kind: 'session'; cookie: { value: string; maxAgeSeconds: number }; next: string }
  // Unusable: expired, used, another browser's; refused: proven as nobody's admin, or not proven.
  | { kind: 'refused'; reason: 'unusable' | 'not_admin' | 'unverified' };

// The end of an admin's sign-in through the tenant's provider, on the tenant host: the hand-off
// taken once in the browser that started it; an admin whose verified address the provider
// proved gets a console session (a re-verification's replaces the one it came from); anyone else
// is refused, audited.
export async function completeAdminOidcSignIn({
  ctx,
  tenant,
  id,
  handoff,
  cookieValue,
  now = Date.now(),
}: CompleteAdminOidcSignInOptions): Promise<TAdminOidcOutcome> {
  let signIn: Awaited<ReturnType<typeof consumeHandoff>>;
  try {
    signIn = await consumeHandoff({ ctx, tenant, purpose: 'admin', id, handoff, cookieValue, now });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { kind: 'refused', reason: 'unusable' };
  }
  const provider = await getProvider({ ctx, tenantId: tenant.id, providerId: signIn.provider });
  const admin =
    signIn.outcome === 'ok' && signIn.address && provider?.forAdmins
      ? await ctx.db
          .selectFrom('admins')
          .selectAll()
          .where('tenant_id', '=', tenant.id)
          .where('email', '=', signIn.address)
          .executeTakeFirst()
      : undefined;
  if (!admin) {
    const reason = signIn.outcome === 'unverified' ? 'unverified' : 'not_admin';
    await recordAudit(ctx.db, {
      tenantId: tenant.id,
      type: 'admin_signin_failed',
      data: { method: 'oidc', provider: signIn.provider, reason, address: signIn.address },
      at: now,
    });
    return { kind: 'refused', reason };
  }
  if (signIn.replaces_session) {
    await ctx.db
      .updateTable('admin_sessions')
      .set({ ended_at: now })
      .where('id', '=', signIn.replaces_session)
      .where('tenant_id', '=', tenant.id)
      .where('admin_id', '=', admin.id)
      .where('ended_at', 'is', null)
      .execute();
  }
  const cookie = await createAdminSession({
    ctx,
    tenant,
    adminId: admin.id,
    signedInWith: { method: 'oidc', provider: signIn.provider },
    now,
  });
  return { kind: 'session', cookie, next: signIn.next_path ?? '/admin/messages' };
}
