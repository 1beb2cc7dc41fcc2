import { z } from 'zod';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TContext } from '../server/context';
import type { TAdminRole } from '../store/schema';
import { portalOrigin, type TTenant } from '../tenants/tenants';
import { issueAdminSecret } from './admin-secrets';
import { ZAdminRole } from './roles';

export const INVITATION_TTL_MS = 24 * 60 * 60_000;

const ZInvite = z.object({ email: z.string().trim().toLowerCase().max(254).email(), role: ZAdminRole });

export type InviteAdminOptions = {
  ctx: Pick<TContext, 'db' | 'master' | 'config'>;
  tenant: TTenant;
  input: { email: string; role: string };
  // Who invites: 'cli' or adminActor(admin).
  actor: string;
  now?: number;
};

// A single-use link, valid for 24 hours, that lets its holder register a passkey as an admin of
// this tenant with this role. Returned once; only a keyed hash of its secret is kept.
export async function inviteAdmin({ ctx, tenant, input, actor, now = Date.now() }: InviteAdminOptions) {
  const parsed = ZInvite.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', 'An invitation needs a valid address and a role: owner, admin or auditor.');
  const { email, role } = parsed.data as { email: string; role: TAdminRole };
  const existing = await ctx.db
    .selectFrom('admins')
    .select('id')
    .where('tenant_id', '=', tenant.id)
    .where('email', '=', email)
    .executeTakeFirst();
  if (existing) throw new AppError('CONFLICT', `${email} is already an admin of this tenant.`);
  const secret = await issueAdminSecret({ db: ctx.db, master: ctx.master, tenantId: tenant.id, purpose: 'admin-invitation' });
  const expiresAt = now + INVITATION_TTL_MS;
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('admin_invitations')
      .values({
        id: secret.id,
        tenant_id: tenant.id,
        email,
        role,
        hash: secret.hash,
        key_version: secret.keyVersion,
        invited_by: actor,
        created_at: now,
        expires_at: expiresAt,
        used_at: null,
      })
      .execute();
    await recordAudit(trx, {
      tenantId: tenant.id,
      type: 'admin_invited',
      actor,
      data: { email, after: JSON.stringify({ role }) },
      at: now,
    });
  });
  return {
    email,
    role,
    expiresAt: new Date(expiresAt).toISOString(),
    link: `${portalOrigin(ctx.config, tenant)}/admin/invite/${secret.token}`,
  };
}
