import { getTenantKey } from '../envelope/tenant-keys';
import type { TContext } from '../server/context';
import { importSigningKey, type TSmimeSigner } from './signer-key';
import { openSmimeKey, unpackChain } from './smime-store';

type TCached = { until: number; signers: Array<{ address: string; signer: TSmimeSigner }> };

// Unsealed keys live a minute per process, as DKIM's do: a new import reaches every worker within it.
const SIGNER_TTL_MS = 60_000;
const cache = new Map<string, TCached>();

export const clearSmimeSignerCache = (tenantId?: string) => {
  if (tenantId) cache.delete(tenantId);
  else cache.clear();
};

export type LoadTenantSignerOptions = { ctx: Pick<TContext, 'db' | 'master'>; tenantId: string; from: string; now?: number };

// The signing certificate for a From address: the one issued to that address, else the tenant's
// newest (a recipient's client then shows who signed). Null when the tenant has none in date.
export async function loadTenantSigner({ ctx, tenantId, from, now = Date.now() }: LoadTenantSignerOptions): Promise<TSmimeSigner | null> {
  let hit = cache.get(tenantId);
  if (!hit || hit.until <= now) {
    const rows = await ctx.db
      .selectFrom('smime_certificates')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('kind', '=', 'signing')
      .where('not_after', '>', now)
      .orderBy('created_at', 'desc')
      .execute();
    const signers: TCached['signers'] = [];
    for (const row of rows) {
      const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId, version: row.key_version ?? undefined });
      const privateKey = await importSigningKey({
        pkcs8Pem: openSmimeKey({ tenantKey: tenantKey.key, row }),
        scheme: row.signature_scheme === 'pss' ? 'pss' : 'pkcs1',
      });
      signers.push({
        address: row.address ?? '',
        signer: { certificates: [new Uint8Array(row.certificate), ...unpackChain(row.chain)], privateKey },
      });
    }
    hit = { until: now + SIGNER_TTL_MS, signers };
    cache.set(tenantId, hit);
  }
  const address = from.toLowerCase();
  return (hit.signers.find((s) => s.address === address) ?? hit.signers[0])?.signer ?? null;
}
