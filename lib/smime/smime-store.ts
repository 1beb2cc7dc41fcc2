import crypto from 'node:crypto';
import fs from 'node:fs';
import { deriveKey, openBytes, sealBytes } from '../envelope/aead';
import type { TDb } from '../store/db';
import type { TSmimeCertificateTable } from '../store/schema';
import { unpackCapabilities } from './smime-capabilities';

// The system's CA bundle (Debian's ca-certificates), read once per process.
export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const smimeKeyAad = (tenantId: string, id: string) => `sealpost:smime-key:v1:${tenantId}:${id}`;
const smimeKeySubkey = (tenantKey: Uint8Array) => deriveKey(tenantKey, 'smime-private-key');

export type SealSmimeKeyOptions = { tenantKey: Uint8Array; tenantId: string; id: string; pkcs8Pem: string };

// Sealed like a DKIM key or an identity provider's secret: a subkey of the tenant key, the row bound by the AAD.
export const sealSmimeKey = ({ tenantKey, tenantId, id, pkcs8Pem }: SealSmimeKeyOptions): Buffer =>
  sealBytes({ key: smimeKeySubkey(tenantKey), plaintext: Buffer.from(pkcs8Pem, 'utf8'), aad: smimeKeyAad(tenantId, id) });

export type OpenSmimeKeyOptions = { tenantKey: Uint8Array; row: Pick<TSmimeCertificateTable, 'id' | 'tenant_id' | 'private_key'> };

export const openSmimeKey = ({ tenantKey, row }: OpenSmimeKeyOptions): string =>
  openBytes({
    key: smimeKeySubkey(tenantKey),
    sealed: row.private_key ?? Buffer.alloc(0),
    aad: smimeKeyAad(row.tenant_id, row.id),
  }).toString('utf8');

// Certificates from PEM text (any number) or one DER certificate.
export function readCertificates(input: Buffer): Uint8Array[] {
  const text = input.toString('latin1');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return [new Uint8Array(input)];
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new Uint8Array(Buffer.from(b.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
}

// A chain column: DER certificates one after another, each with a 4-byte length in front.
export const packChain = (certs: Uint8Array[]): Buffer =>
  Buffer.concat(certs.flatMap((c) => [Buffer.from(Uint32Array.of(c.length).buffer), Buffer.from(c)]));

export function unpackChain(packed: Buffer | null): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (packed && at + 4 <= packed.length) {
    const length = packed.readUInt32LE(at);
    out.push(new Uint8Array(packed.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return out;
}

let systemAnchors: crypto.X509Certificate[] | null = null;

function readSystemAnchors(): crypto.X509Certificate[] {
  if (systemAnchors) return systemAnchors;
  const pem = fs.existsSync(SYSTEM_CA_BUNDLE) ? fs.readFileSync(SYSTEM_CA_BUNDLE) : Buffer.alloc(0);
  systemAnchors = readCertificates(pem).flatMap((der) => {
    try {
      return [new crypto.X509Certificate(der)];
    } catch {
      return [];
    }
  });
  return systemAnchors;
}

export type LoadTrustAnchorsOptions = { db: TDb; tenantId: string };

// What a certificate must chain to: the system bundle and the CAs the tenant added.
export async function loadTrustAnchors({ db, tenantId }: LoadTrustAnchorsOptions): Promise<crypto.X509Certificate[]> {
  const rows = await db
    .selectFrom('smime_certificates')
    .select('certificate')
    .where('tenant_id', '=', tenantId)
    .where('kind', '=', 'ca')
    .execute();
  return [...readSystemAnchors(), ...rows.map((r) => new crypto.X509Certificate(r.certificate))];
}

const signatureOf = (row: TSmimeCertificateTable) =>
  new crypto.X509Certificate(row.certificate).publicKey.asymmetricKeyType === 'ec'
    ? 'ecdsa'
    : row.signature_scheme === 'pss'
      ? 'rsa-pss'
      : 'rsa-pkcs1';

export const toSmimeCertificateView = (row: TSmimeCertificateTable) => {
  const cert = new crypto.X509Certificate(row.certificate);
  return {
    id: row.id,
    kind: row.kind,
    address: row.address,
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    fingerprint: row.fingerprint,
    notAfter: new Date(Number(row.not_after)).toISOString(),
    source: row.source,
    // The content ciphers the correspondent reads, as OIDs; null when unknown.
    capabilities: unpackCapabilities(row.capabilities),
    hasPrivateKey: row.private_key !== null,
    // How a signing key signs: 'rsa-pss', 'rsa-pkcs1' or 'ecdsa'; null on other rows.
    signature: row.kind === 'signing' ? signatureOf(row) : null,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
};
