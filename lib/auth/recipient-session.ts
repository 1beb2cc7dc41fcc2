import crypto from 'node:crypto';
import { decode, encode } from 'next-auth/jwt';
import { deriveKey } from '../envelope/aead';
import { getLiveTenantKeys } from '../envelope/tenant-keys';
import type { TConfig } from '../env';
import { hostCookieName } from './host-cookie';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';

// Idle for an hour and the session ends; "Keep me signed in on this device" keeps it for 12
// hours, however idle. No session outlives 12 hours from sign-in.
export const SESSION_IDLE_MS = 60 * 60_000;
export const SESSION_MAX_AGE_S = 12 * 60 * 60;
// Activity is written down at most once a minute: reading a page is not a write every time.
const TOUCH_EVERY_MS = 60_000;

// Both pinned to exactly this tenant host (hostCookieName).
export const sessionCookieName = (config: Pick<TConfig, 'publicScheme'>) => hostCookieName(config, 'sealpost-session');
export const passcodeCookieName = (config: Pick<TConfig, 'publicScheme'>) => hostCookieName(config, 'sealpost-passcode');

export type TRecipientSession = { id: string; tenantId: string; messageId: string; recipientId: string; address: string; isKept: boolean };

// next-auth's session token (an encrypted JWT) under a per-tenant secret: a cookie from one
// tenant's host is worthless on another's. Made under the current tenant key version, read under
// it or one retired within the grace (getLiveTenantKeys): `keys rotate` rotates this secret too.
async function sessionSecrets(ctx: TContext, tenant: TTenant, now: number): Promise<string[]> {
  const keys = await getLiveTenantKeys({ db: ctx.db, master: ctx.master, tenantId: tenant.id, now });
  return keys.map((k) => deriveKey(k.key, 'recipient-session').toString('base64url'));
}

export type CreateRecipientSessionOptions = {
  ctx: TContext;
  tenant: TTenant;
  session: Omit<TRecipientSession, 'tenantId' | 'id'>;
  now?: number;
};

// The cookie: next-auth's encrypted JWT naming a server-side session. Without "keep me signed in"
// it is a browser-session cookie (no Max-Age); the server enforces the idle hour either way.
export async function createRecipientSession({
  ctx,
  tenant,
  session,
  now = Date.now(),
}: CreateRecipientSessionOptions): Promise<TRecipientSessionCookie> {
  const id = crypto.randomUUID();
  await ctx.db
    .insertInto('recipient_sessions')
    .values({
      id,
      tenant_id: tenant.id,
      message_id: session.messageId,
      recipient_id: session.recipientId,
      address: session.address,
      kept: session.isKept ? 1 : 0,
      created_at: now,
      last_seen_at: now,
      expires_at: now + SESSION_MAX_AGE_S * 1000,
      ended_at: null,
    })
    .execute();
  const value = await encode({
    token: { sub: session.recipientId, sid: id, tnt: tenant.id, mid: session.messageId, adr: session.address, keep: session.isKept },
    secret: (await sessionSecrets(ctx, tenant, now))[0]!,
    maxAge: SESSION_MAX_AGE_S,
  });
  return { name: sessionCookieName(ctx.config), value, maxAge: session.isKept ? SESSION_MAX_AGE_S : undefined };
}

// The cookie a sign-in's response carries (lib/http/set-cookies.ts sets it).
export type TRecipientSessionCookie = { name: string; value: string; maxAge: number | undefined };

export type ReadRecipientSessionOptions = { ctx: TContext; tenant: TTenant; value: string | undefined; now?: number };

// A session is good while its cookie decrypts under this tenant's secret and its server-side
// record is neither ended, past 12 hours, nor (unless kept) idle for an hour.
export async function readRecipientSession({
  ctx,
  tenant,
  value,
  now = Date.now(),
}: ReadRecipientSessionOptions): Promise<TRecipientSession | null> {
  const claims = await decodeSessionCookie(ctx, tenant, value, now);
  if (!claims) return null;
  const row = await ctx.db.selectFrom('recipient_sessions').selectAll().where('id', '=', claims.sid).executeTakeFirst();
  if (!row || row.tenant_id !== tenant.id || row.message_id !== claims.mid || row.address !== claims.adr || row.ended_at !== null)
    return null;
  if (now >= Number(row.expires_at) || (!row.kept && now - Number(row.last_seen_at) > SESSION_IDLE_MS)) return null;
  if (now - Number(row.last_seen_at) > TOUCH_EVERY_MS) {
    await ctx.db
      .updateTable('recipient_sessions')
      .set({ last_seen_at: now })
      .where('id', '=', row.id)
      .where('ended_at', 'is', null)
      .execute();
  }
  return {
    id: row.id,
    tenantId: tenant.id,
    messageId: row.message_id,
    recipientId: row.recipient_id,
    address: row.address,
    isKept: row.kept === 1,
  };
}

export type EndRecipientSessionOptions = { ctx: TContext; tenant: TTenant; value: string | undefined; now?: number };

// Sign-out ends the session on the server too: a copied cookie is worthless afterwards.
export async function endRecipientSession({ ctx, tenant, value, now = Date.now() }: EndRecipientSessionOptions): Promise<void> {
  const claims = await decodeSessionCookie(ctx, tenant, value, now);
  if (claims)
    await ctx.db
      .updateTable('recipient_sessions')
      .set({ ended_at: now })
      .where('id', '=', claims.sid)
      .where('tenant_id', '=', tenant.id)
      .execute();
}

export async function purgeRecipientSessions(db: TContext['db'], now: number): Promise<number> {
  const result = await db.deleteFrom('recipient_sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

async function decodeSessionCookie(ctx: TContext, tenant: TTenant, value: string | undefined, now: number) {
  if (!value || value.length > 4096) return null;
  for (const secret of await sessionSecrets(ctx, tenant, now)) {
    try {
      const token = await decode({ token: value, secret });
      if (
        !token ||
        token.tnt !== tenant.id ||
        typeof token.sid !== 'string' ||
        typeof token.mid !== 'string' ||
        typeof token.adr !== 'string'
      )
        return null;
      return { sid: token.sid, mid: token.mid, adr: token.adr };
    } catch {
      // not made under this secret: the next live one, if any
    }
  }
  return null;
}
