import { decode, encode } from 'next-auth/jwt';
import { deriveKey } from '../envelope/aead';
import { getTenantKey } from '../envelope/tenant-keys';
import type { TConfig } from '../env';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';

export const SESSION_MAX_AGE_S = 60 * 60;
export const SESSION_KEEP_MAX_AGE_S = 12 * 60 * 60;

// `__Host-` (Secure, no Domain, Path=/) pins the cookie to exactly this tenant host; plain HTTP
// (local trial) cannot carry Secure cookies, so there it has a plain name.
export const sessionCookieName = (config: Pick<TConfig, 'publicScheme'>) =>
  config.publicScheme === 'https' ? '__Host-sealpost-session' : 'sealpost-session';
export const passcodeCookieName = (config: Pick<TConfig, 'publicScheme'>) =>
  config.publicScheme === 'https' ? '__Host-sealpost-passcode' : 'sealpost-passcode';

export type TRecipientSession = { tenantId: string; messageId: string; recipientId: string; address: string; isKept: boolean };

// next-auth's session token (an encrypted JWT) under a per-tenant secret: a cookie from one
// tenant's host is worthless on another's.
async function sessionSecret(ctx: TContext, tenant: TTenant): Promise<string> {
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id, version: 1 });
  return deriveKey(tenantKey.key, 'recipient-session').toString('base64url');
}

export type CreateRecipientSessionOptions = { ctx: TContext; tenant: TTenant; session: Omit<TRecipientSession, 'tenantId'> };

export async function createRecipientSession({ ctx, tenant, session }: CreateRecipientSessionOptions) {
  const maxAge = session.isKept ? SESSION_KEEP_MAX_AGE_S : SESSION_MAX_AGE_S;
  const value = await encode({
    token: { sub: session.recipientId, tnt: tenant.id, mid: session.messageId, adr: session.address, keep: session.isKept },
    secret: await sessionSecret(ctx, tenant),
    maxAge,
  });
  return { name: sessionCookieName(ctx.config), value, maxAge };
}

export type ReadRecipientSessionOptions = { ctx: TContext; tenant: TTenant; value: string | undefined };

export async function readRecipientSession({ ctx, tenant, value }: ReadRecipientSessionOptions): Promise<TRecipientSession | null> {
  if (!value || value.length > 4096) return null;
  try {
    const token = await decode({ token: value, secret: await sessionSecret(ctx, tenant) });
    if (!token || token.tnt !== tenant.id || typeof token.sub !== 'string' || typeof token.mid !== 'string' || typeof token.adr !== 'string') return null;
    return { tenantId: tenant.id, messageId: token.mid, recipientId: token.sub, address: token.adr, isKept: token.keep === true };
  } catch {
    return null;
  }
}
