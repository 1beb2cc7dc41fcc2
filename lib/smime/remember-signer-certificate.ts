import crypto from 'node:crypto';
import { isAppError } from '../errors';
import { logger } from '../logger';
import type { TDb } from '../store/db';
import { readMessageContentType, splitMessage } from './mime-entity';
import { packCapabilities } from './smime-capabilities';
import type { TVerifiedSignature } from './verify-signed-mail';

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
    const { verifySignedEntity } = await import('./verify-signed-mail');
    const verified = await verifySignedEntity({ entity });
    if (!verified) return 'not-signed';
    return await learnVerifiedSigner({ db, tenantId, verified, sender, now });
  } catch (error) {
    const reason = isAppError(error) ? error.message : (error as Error).name;
    logger.info({ tenantId, reason }, 'S/MIME signer certificate not remembered');
    return { refused: reason };
  }
}

export type LearnVerifiedSignerOptions = {
  db: TDb;
  tenantId: string;
  verified: TVerifiedSignature;
  sender: string;
  actor?: string;
  now?: number;
};

// A verified signature's certificate stored for the sender's address (every check an admin's
// certificate passes, run by addSmimeCertificate, which audits it), or, already known, its
// capabilities brought up to date. Throws the check's refusal.
export async function learnVerifiedSigner({
  db,
  tenantId,
  verified,
  sender,
  actor = 'relay',
  now = Date.now(),
}: LearnVerifiedSignerOptions): Promise<'remembered' | 'known'> {
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
  const { addSmimeCertificate } = await import('./add-smime-certificate');
  await addSmimeCertificate({
    db,
    tenantId,
    kind: 'recipient',
    file: Buffer.from(pem),
    address: sender,
    actor,
    source: 'inbound',
    capabilities: verified.capabilities,
    now,
  });
  return 'remembered';
}

const toPem = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;

const fingerprintOf = (der: Uint8Array) => new crypto.X509Certificate(der).fingerprint256.replace(/:/g, '').toLowerCase();
