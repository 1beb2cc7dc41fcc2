import crypto from 'node:crypto';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import type { TTenant } from './tenants';

const KEY_PREFIX = 'sp_';
const KEY_PATTERN = /^sp_[A-Za-z0-9_-]{43}$/;

// 256 random bits: a plain SHA-256 is enough at rest (nothing to brute-force), and the lookup is
// by hash, so no key is ever compared character by character.
const hashKey = (key: string) => crypto.createHash('sha256').update(key).digest('hex');

export type CreateApiKeyOptions = { db: TDb; tenantId: string; name?: string; now?: number };

// Returns the key once; only its hash and a short prefix (to recognise it in lists) are kept.
export async function createApiKey({ db, tenantId, name = 'default', now = Date.now() }: CreateApiKeyOptions) {
  const key = `${KEY_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
  const id = crypto.randomUUID();
  await db
    .insertInto('api_keys')
    .values({
      id,
      tenant_id: tenantId,
      name: name.slice(0, 100),
      prefix: key.slice(0, 10),
      hash: hashKey(key),
      created_at: now,
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  return { id, key, prefix: key.slice(0, 10) };
}

export type AuthenticateApiKeyOptions = { db: TDb; authorization: string | null };

export async function authenticateApiKey({ db, authorization }: AuthenticateApiKeyOptions): Promise<TTenant> {
  const match = /^Bearer ([^\s]+)$/.exec(authorization ?? '');
  if (!match?.[1]) throw new AppError('UNAUTHORIZED', 'Send an API key as "Authorization: Bearer <key>"');
  const key = match[1];
  if (!KEY_PATTERN.test(key)) throw new AppError('UNAUTHORIZED', 'The API key is not valid');
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
    .select([
      'api_keys.id as key_id',
      'api_keys.revoked_at',
      'tenants.id',
      'tenants.slug',
      'tenants.name',
      'tenants.mail_domain',
      'tenants.custom_domain',
      'tenants.created_at',
    ])
    .where('api_keys.hash', '=', hashKey(key))
    .executeTakeFirst();
  if (!row || row.revoked_at) throw new AppError('UNAUTHORIZED', 'The API key is not valid');
  await db.updateTable('api_keys').set({ last_used_at: Date.now() }).where('id', '=', row.key_id).execute();
  const { key_id: _keyId, revoked_at: _revokedAt, ...tenant } = row;
  return tenant;
}
