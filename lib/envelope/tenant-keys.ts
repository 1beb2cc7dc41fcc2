import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { TDatabase, TTenantKeyTable } from '../store/schema';
import { deriveKey } from './aead';
import type { TMasterKeyProvider } from './master-key';

export type TKeyContext = { db: Kysely<TDatabase>; master: TMasterKeyProvider };
export type TTenantKey = { version: number; key: Buffer };

const tenantKeyAad = (tenantId: string, version: number) => `sealpost:tenant-key:v1:${tenantId}:${version}`;

// Unwrapped tenant keys are cached for the life of the process; rotation adds versions, it never
// changes one, so an entry can only go stale by master rotation (which re-wraps the same key).
const cache = new Map<string, Buffer>();

// A tenant key's subkeys by purpose (deriveKey's HKDF), derived once per key: a version's key never
// changes, and the relay derived the same outbox, content-key and subject keys for every message.
// Held as long as the unwrapped key itself is (the cache above), not longer.
const subkeys = new WeakMap<Uint8Array, Map<string, Buffer>>();

export function deriveTenantSubkey(tenantKey: TTenantKey, purpose: string): Buffer {
  let byPurpose = subkeys.get(tenantKey.key);
  if (!byPurpose) {
    byPurpose = new Map();
    subkeys.set(tenantKey.key, byPurpose);
  }
  let subkey = byPurpose.get(purpose);
  if (!subkey) {
    subkey = deriveKey(tenantKey.key, purpose);
    byPurpose.set(purpose, subkey);
  }
  return subkey;
}

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
  return unwrapTenantKey(master, row);
}

async function unwrapTenantKey(
  master: TMasterKeyProvider,
  row: Pick<TTenantKeyTable, 'tenant_id' | 'version' | 'wrapped_key' | 'master_key_id'>,
): Promise<TTenantKey> {
  const cacheKey = `${row.tenant_id}:${row.version}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = await master.unwrap({ wrapped: row.wrapped_key, aad: tenantKeyAad(row.tenant_id, row.version), keyId: row.master_key_id });
    cache.set(cacheKey, key);
  }
  return { version: row.version, key };
}

// How long a version that is no longer current still verifies what was made under it: the
// longest life of anything a secret derived from it protects (a kept session, 12 hours).
export const KEY_GRACE_MS = 12 * 60 * 60_000;

export type GetLiveTenantKeysOptions = TKeyContext & { tenantId: string; now?: number };

// The current version first, then each older one that stopped being current (when its successor
// was made) less than KEY_GRACE_MS ago. Secrets derived from the tenant key (session cookies,
// federated sign-in cookies) are made under the first and read under any: a rotation signs nobody
// out, and a leaked old secret stops working after the grace.
export async function getLiveTenantKeys({ db, master, tenantId, now = Date.now() }: GetLiveTenantKeysOptions): Promise<TTenantKey[]> {
  const rows = await db
    .selectFrom('tenant_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('version', 'desc')
    .limit(4)
    .execute();
  if (rows.length === 0) throw new Error('tenant key not found');
  const live = [rows[0]!];
  for (let i = 1; i < rows.length && now - Number(rows[i - 1]!.created_at) < KEY_GRACE_MS; i += 1) live.push(rows[i]!);
  return Promise.all(live.map((row) => unwrapTenantKey(master, row)));
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
