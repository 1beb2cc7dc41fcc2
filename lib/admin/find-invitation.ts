import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { matchesAdminSecret, splitAdminToken } from './admin-secrets';

export type FindInvitationOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenant: TTenant;
  token: string;
  now?: number;
};

// The invitation a link names, while it is unused, unexpired and this tenant's; otherwise null
// (a wrong, used, expired or foreign link all look the same).
export async function findLiveInvitation({ ctx, tenant, token, now = Date.now() }: FindInvitationOptions) {
  const parts = splitAdminToken(token);
  if (!parts) return null;
  const row = await ctx.db
    .selectFrom('admin_invitations')
    .selectAll()
    .where('id', '=', parts.id)
    .where('tenant_id', '=', tenant.id)
    .executeTakeFirst();
  if (!row || row.used_at !== null || now >= Number(row.expires_at)) return null;
  const isMatch = await matchesAdminSecret({
    db: ctx.db,
    master: ctx.master,
    tenantId: tenant.id,
    purpose: 'admin-invitation',
    id: parts.id,
    secret: parts.secret,
    stored: { hash: row.hash, keyVersion: row.key_version },
  });
  return isMatch ? row : null;
}
