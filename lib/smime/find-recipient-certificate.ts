import { logger } from '../logger';
import type { TDb } from '../store/db';
import { checkCertificate } from './check-certificate';
import { unpackCapabilities } from './smime-capabilities';
import { loadTrustAnchors, unpackChain } from './smime-store';

export type FindRecipientCertificateOptions = { db: TDb; tenantId: string; address: string; now?: number };

// The newest certificate Sealpost knows for an address that is still good for encryption to it
// (checked again now: dates, usage, the address, a chain to today's trust store; its CRL was
// checked when it was added), with the content ciphers the correspondent reads. Null when there is
// none: that recipient gets the wrapper.
export async function findRecipientCertificate({ db, tenantId, address, now = Date.now() }: FindRecipientCertificateOptions) {
  const rows = await db
    .selectFrom('smime_certificates')
    .select(['id', 'certificate', 'chain', 'capabilities'])
    .where('tenant_id', '=', tenantId)
    .where('kind', '=', 'recipient')
    .where('address', '=', address.toLowerCase())
    .where('not_after', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
  if (!rows.length) return null;
  const trustAnchors = await loadTrustAnchors({ db, tenantId });
  for (const row of rows) {
    const der = new Uint8Array(row.certificate);
    try {
      await checkCertificate({ der, chain: unpackChain(row.chain), address, purpose: 'encrypt', trustAnchors, now, checkCrl: false });
      return { der, capabilities: unpackCapabilities(row.capabilities) };
    } catch (error) {
      logger.warn({ certificateId: row.id, reason: (error as Error).message }, 'S/MIME certificate no longer usable');
    }
  }
  return null;
}
