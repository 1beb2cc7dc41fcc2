import { recordAudit } from '../audit/record-audit';
import { hostCookieName } from '../auth/host-cookie';
import type { TConfig } from '../env';
import type { TContext } from '../server/context';
import type { TAdminTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';
import { issueAdminSecret, matchesAdminSecret, splitAdminToken } from './admin-secrets';
import { adminActor } from './roles';

// Admin sessions: 30 minutes idle, 8 hours at most, and a passkey check within the last 5 minutes
// before a sensitive action. Shorter than a reader's: an admin session can revoke and rotate.
export const ADMIN_IDLE_MS = 30 * 60_000;
export const ADMIN_MAX_MS = 8 * 60 * 60_000;
export const ADMIN_REVERIFY_MS = 5 * 60_000;
// Activity is written down at most once a minute.
const TOUCH_EVERY_MS = 60_000;

// Its own cookie, pinned to exactly this tenant host like the reader's (hostCookieName).
export const adminCookieName = (config: Pick<TConfig, 'publicScheme'>) => hostCookieName(config, 'sealpost-admin');

export type TAdminSession = { id: string; admin: TAdminTable; verifiedAt: number };
export type TAdminSessionState = { kind: 'none' } | { kind: 'foreign' } | { kind: 'ok'; session: TAdminSession };

// How the admin proved it is them: a passkey, or the tenant's identity provider (which one).
export type TAdminSignInMethod = { method: 'passkey' } | { method: 'oidc'; provider: string };

export type CreateAdminSessionOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenant: TTenant;
  adminId: string;
  signedInWith?: TAdminSignInMethod;
  now?: number;
};

// After a passkey check or a provider's sign-in: a new session (the cookie's value returned),
// verified now, audited with the method.
export async function createAdminSession({
  ctx,
  tenant,
  adminId,
  signedInWith = { method: 'passkey' },
  now = Date.now(),
}: CreateAdminSessionOptions) {
  const secret = await issueAdminSecret({ db: ctx.db, master: ctx.master, tenantId: tenant.id, purpose: 'admin-session' });
  const admin = await ctx.db.selectFrom('admins').selectAll().where('id', '=', adminId).executeTakeFirstOrThrow();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('admin_sessions')
      .values({
        id: secret.id,
        tenant_id: tenant.id,
        admin_id: adminId,
        hash: secret.hash,
        key_version: secret.keyVersion,
        created_at: now,
        last_seen_at: now,
        verified_at: now,
        expires_at: now + ADMIN_MAX_MS,
        ended_at: null,
      })
      .execute();
    await recordAudit(trx, {
      tenantId: tenant.id,
      type: 'admin_signin_ok',
      actor: adminActor(admin),
      data: signedInWith,
      at: now,
    });
  });
  return { value: secret.token, maxAgeSeconds: ADMIN_MAX_MS / 1000 };
}

export type ReadAdminSessionOptions = { ctx: Pick<TContext, 'db' | 'master'>; tenant: TTenant; value: string | undefined; now?: number };

// 'foreign': a good session of another tenant (its admin is told nothing exists here).
export async function readAdminSession({ ctx, tenant, value, now = Date.now() }: ReadAdminSessionOptions): Promise<TAdminSessionState> {
  const parts = splitAdminToken(value);
  if (!parts) return { kind: 'none' };
  const row = await ctx.db.selectFrom('admin_sessions').selectAll().where('id', '=', parts.id).executeTakeFirst();
  if (!row || row.ended_at !== null || now >= Number(row.expires_at) || now - Number(row.last_seen_at) > ADMIN_IDLE_MS)
    return { kind: 'none' };
  const isMatch = await matchesAdminSecret({
    db: ctx.db,
    master: ctx.master,
    tenantId: row.tenant_id,
    purpose: 'admin-session',
    id: parts.id,
    secret: parts.secret,
    stored: { hash: row.hash, keyVersion: row.key_version },
  });
  if (!isMatch) return { kind: 'none' };
  if (row.tenant_id !== tenant.id) return { kind: 'foreign' };
  const admin = await ctx.db.selectFrom('admins').selectAll().where('id', '=', row.admin_id).executeTakeFirst();
  if (!admin) return { kind: 'none' };
  if (now - Number(row.last_seen_at) > TOUCH_EVERY_MS) {
    await ctx.db.updateTable('admin_sessions').set({ last_seen_at: now }).where('id', '=', row.id).where('ended_at', 'is', null).execute();
  }
  return { kind: 'ok', session: { id: row.id, admin, verifiedAt: Number(row.verified_at) } };
}

export const isRecentlyVerified = (session: TAdminSession, now = Date.now()) => now - session.verifiedAt <= ADMIN_REVERIFY_MS;

export type EndAdminSessionOptions = { ctx: Pick<TContext, 'db'>; tenant: TTenant; session: TAdminSession; now?: number };

// Sign-out ends the session on the server: a copied cookie is worthless afterwards.
export async function endAdminSession({ ctx, tenant, session, now = Date.now() }: EndAdminSessionOptions) {
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('admin_sessions')
      .set({ ended_at: now })
      .where('id', '=', session.id)
      .where('tenant_id', '=', tenant.id)
      .execute();
    await recordAudit(trx, { tenantId: tenant.id, type: 'admin_signed_out', actor: adminActor(session.admin), at: now });
  });
}

// Housekeeping: sessions past their 8 hours and ceremonies past their minutes.
export async function purgeAdminSessions(db: TContext['db'], now: number): Promise<number> {
  await db.deleteFrom('admin_challenges').where('expires_at', '<=', now).execute();
  const result = await db.deleteFrom('admin_sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
