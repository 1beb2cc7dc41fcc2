import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { TDatabase } from '../store/schema';
import type { TMasterKeyProvider } from './master-key';

export type TKeyContext = { db: Kysely<TDatabase>; master: TMasterKeyProvider };
export type TTenantKey = { version: number; key: Buffer };

const tenantKeyAad = (tenantId: string, version: number) => `sealpost:tenant-key:v1:${tenantId}:${version}`;

// Unwrapped tenant keys are cached for the life of the process; rotation adds versions, it never
// changes one, so an entry can only go stale by master rotation (which re-wraps the same key).
const cache = new Map<string, Buffer>();

export type AddTenantKeyVersionOptions = TKeyContext & { tenantId: string; now?: number };

// A new version becomes current at once: new mail uses it, older mail keeps its own version.
export async function addTenantKeyVersion({ db, master, tenantId, now = Date.now() }: AddTenantKeyVersionOptions): Promise<number> {
  const latest = await db
    .selectFrom('tenant_keys')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  const version = Number(latest?.v ?? 0) + 1;
  const key = crypto.randomBytes(32);
  const { wrapped, keyId } = await master.wrap({ plaintext: key, aad: tenantKeyAad(tenantId, version) });
  await db
    .insertInto('tenant_keys')
    .values({ tenant_id: tenantId, version, wrapped_key: wrapped, master_key_id: keyId, created_at: now })
    .execute();
  cache.set(`${tenantId}:${version}`, key);
  return version;
}

export type GetTenantKeyOptions = TKeyContext & { tenantId: string; version?: number };

// The given version, or the current (highest) one; throws if the tenant has no such key.
export async function getTenantKey({ db, master, tenantId, version }: GetTenantKeyOptions): Promise<TTenantKey> {
  let query = db.selectFrom('tenant_keys').selectAll().where('tenant_id', '=', tenantId);
  query = version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
  const row = await query.executeTakeFirst();
  if (!row) throw new Error('tenant key not found');
  const cacheKey = `${tenantId}:${row.version}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = await master.unwrap({ wrapped: row.wrapped_key, aad: tenantKeyAad(tenantId, row.version), keyId: row.master_key_id });
    cache.set(cacheKey, key);
  }
  return { version: row.version, key };
}

export type RewrapTenantKeysOptions = TKeyContext & { from: TMasterKeyProvider };

// Master key rotation: every tenant key not yet under the current master key is re-wrapped, in
// one transaction. `from` can unwrap the old keys (it may be the same ring as `master`).
export async function rewrapTenantKeys({ db, master, from }: RewrapTenantKeysOptions): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('tenant_keys').selectAll().where('master_key_id', '!=', master.currentId).execute();
    for (const row of rows) {
      const aad = tenantKeyAad(row.tenant_id, row.version);
      const key = await from.unwrap({ wrapped: row.wrapped_key, aad, keyId: row.master_key_id });
      const { wrapped, keyId } = await master.wrap({ plaintext: key, aad });
      await trx
        .updateTable('tenant_keys')
        .set({ wrapped_key: wrapped, master_key_id: keyId })
        .where('tenant_id', '=', row.tenant_id)
        .where('version', '=', row.version)
        .execute();
    }
    return rows.length;
  });
}

export function clearTenantKeyCache(): void {
  cache.clear();
}
