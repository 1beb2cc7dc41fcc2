import crypto from 'node:crypto';
import { isAppError } from '../errors';
import { logger } from '../logger';
import type { TDb } from '../store/db';
import { readMessageContentType, splitMessage } from './mime-entity';
import { packCapabilities } from './smime-capabilities';

export type RememberSignerCertificateOptions = { db: TDb; tenantId: string; raw: Buffer; sender: string; now?: number };

export type TRememberOutcome = 'not-signed' | 'remembered' | 'known' | { refused: string };

// A signed message's certificate, remembered for its sender's address when the signature verifies
// and the certificate passes every check a certificate an admin adds must pass (dates, usage for
// encryption, the sender's address, a chain to the trust store, revocation). Never throws: the
// mail itself is already on its way.
export async function rememberSignerCertificate({
  db,
  tenantId,
  raw,
  sender,
  now = Date.now(),
}: RememberSignerCertificateOptions): Promise<TRememberOutcome> {
  try {
    if (readMessageContentType({ raw }).value !== 'multipart/signed') return 'not-signed';
    const { entity } = splitMessage({ raw });
    // pkijs and the certificate checks are loaded for signed mail only (over a second of start-up).
    const [{ verifySignedEntity }, { addSmimeCertificate }] = await Promise.all([
      import('./verify-signed-mail'),
      import('./add-smime-certificate'),
    ]);
    const verified = await verifySignedEntity({ entity });
    if (!verified) return 'not-signed';
    const known = await db
      .selectFrom('smime_certificates')
      .select(['id', 'capabilities'])
      .where('tenant_id', '=', tenantId)
      .where('kind', '=', 'recipient')
      .where('address', '=', sender)
      .where('fingerprint', '=', fingerprintOf(verified.signer))
      .executeTakeFirst();
    const capabilities = packCapabilities(verified.capabilities);
    if (known) {
      // The latest announcement counts (RFC 8551 §2.7.1); a mail that announces nothing changes nothing.
      if (capabilities !== null && capabilities !== known.capabilities)
        await db.updateTable('smime_certificates').set({ capabilities }).where('id', '=', known.id).execute();
      return 'known';
    }
    const pem = [verified.signer, ...verified.certificates.filter((c) => !Buffer.from(c).equals(Buffer.from(verified.signer)))]
      .map(toPem)
      .join('');
    await addSmimeCertificate({
      db,
      tenantId,
      kind: 'recipient',
      file: Buffer.from(pem),
      address: sender,
      actor: 'relay',
      source: 'inbound',
      capabilities: verified.capabilities,
      now,
    });
    return 'remembered';
  } catch (error) {
    const reason = isAppError(error) ? error.message : (error as Error).name;
    logger.info({ tenantId, reason }, 'S/MIME signer certificate not remembered');
    return { refused: reason };
  }
}

const toPem = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;

const fingerprintOf = (der: Uint8Array) => new crypto.X509Certificate(der).fingerprint256.replace(/:/g, '').toLowerCase();
