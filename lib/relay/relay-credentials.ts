import crypto from 'node:crypto';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import type { TTenant } from '../tenants/tenants';

const USERNAME_PATTERN = /^[a-z0-9-]{1,63}\.[0-9a-f]{12}$/;
const PASSWORD_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// 256 random bits, as for API keys: a plain SHA-256 is enough at rest (nothing to brute-force),
// and the stored hash is compared in constant time.
const hashPassword = (password: string) => crypto.createHash('sha256').update(password).digest('hex');

export type CreateRelayCredentialOptions = { db: TDb; tenant: TTenant; now?: number };

// Returns the password once; only its hash is kept.
export async function createRelayCredential({ db, tenant, now = Date.now() }: CreateRelayCredentialOptions) {
  const id = crypto.randomUUID();
  const username = `${tenant.slug
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)}.${crypto.randomBytes(6).toString('hex')}`;
  const password = crypto.randomBytes(32).toString('base64url');
  await db
    .insertInto('relay_credentials')
    .values({ id, tenant_id: tenant.id, username, hash: hashPassword(password), created_at: now, last_used_at: null, revoked_at: null })
    .execute();
  return { id, username, password };
}

export async function listRelayCredentials({ db, tenant }: { db: TDb; tenant: TTenant }) {
  const rows = await db
    .selectFrom('relay_credentials')
    .select(['id', 'username', 'created_at', 'last_used_at', 'revoked_at'])
    .where('tenant_id', '=', tenant.id)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    createdAt: new Date(Number(r.created_at)).toISOString(),
    lastUsedAt: r.last_used_at ? new Date(Number(r.last_used_at)).toISOString() : null,
    revoked: r.revoked_at !== null,
  }));
}

export type RevokeRelayCredentialOptions = { db: TDb; tenant: TTenant; username: string; now?: number };

export async function revokeRelayCredential({ db, tenant, username, now = Date.now() }: RevokeRelayCredentialOptions) {
  const r = await db
    .updateTable('relay_credentials')
    .set({ revoked_at: now })
    .where('tenant_id', '=', tenant.id)
    .where('username', '=', username)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', `No active relay credential ${username} for tenant ${tenant.slug}`);
  return { username, revoked: true };
}

export type AuthenticateRelayCredentialOptions = { db: TDb; username: string; password: string; now?: number };

// The tenant id the credential relays for, or null. Malformed input never reaches the database.
export async function authenticateRelayCredential({
  db,
  username,
  password,
  now = Date.now(),
}: AuthenticateRelayCredentialOptions): Promise<{ tenantId: string; credentialId: string } | null> {
  if (!USERNAME_PATTERN.test(username) || !PASSWORD_PATTERN.test(password)) return null;
  const row = await db
    .selectFrom('relay_credentials')
    .select(['id', 'tenant_id', 'hash', 'revoked_at'])
    .where('username', '=', username)
    .executeTakeFirst();
  const given = Buffer.from(hashPassword(password), 'hex');
  // Compared even when the row is missing, so the answer takes as long whether the name exists or not.
  const stored = row ? Buffer.from(row.hash, 'hex') : crypto.randomBytes(32);
  const isMatch = crypto.timingSafeEqual(given, stored);
  if (!row || row.revoked_at !== null || !isMatch) return null;
  await db.updateTable('relay_credentials').set({ last_used_at: now }).where('id', '=', row.id).execute();
  return { tenantId: row.tenant_id, credentialId: row.id };
}
