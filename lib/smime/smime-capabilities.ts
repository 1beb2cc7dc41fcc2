import { AppError } from '../errors';
import { asn1js, OID, type pkijs } from './cms';
import type { TSmimeCipher } from './encrypt-entity';

// The content ciphers an admin may name for a correspondent (`smime cert add --capabilities`).
export const CAPABILITY_NAMES: Record<string, string> = {
  'aes256-gcm': OID.aes256Gcm,
  'aes128-gcm': OID.aes128Gcm,
  'aes256-cbc': OID.aes256Cbc,
  'aes128-cbc': OID.aes128Cbc,
};

// What Sealpost's own signatures announce, most preferred first (RFC 8551 §2.5.2): it opens
// AuthEnvelopedData with AES-GCM and EnvelopedData with AES-CBC.
export const SEALPOST_CAPABILITIES = [OID.aes256Gcm, OID.aes256Cbc, OID.aes128Cbc];

// A correspondent's announcement is kept up to this many entries (real clients list about ten).
const MAX_CAPABILITIES = 32;

export type ParseCapabilityNamesOptions = { text: string };

// "aes256-gcm,aes256-cbc" as OIDs, or a refusal naming what is accepted.
export function parseCapabilityNames({ text }: ParseCapabilityNamesOptions): string[] {
  const names = text
    .split(/[\s,]+/)
    .map((n) => n.toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((n) => !(n in CAPABILITY_NAMES));
  if (unknown.length)
    throw new AppError(
      'BAD_REQUEST',
      `Unknown S/MIME capability "${unknown[0]}": use ${Object.keys(CAPABILITY_NAMES).join(', ')} (comma-separated)`,
    );
  return [...new Set(names.map((n) => CAPABILITY_NAMES[n]!))];
}

// The SMIMECapabilities attribute as asn1js objects: SEQUENCE OF SEQUENCE { capabilityID OID }.
export const capabilitiesAttributeValue = (oids: string[]) =>
  new asn1js.Sequence({ value: oids.map((oid) => new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid })] })) });

// The capability OIDs a signer announced in its signed attributes, in its order of preference; null
// when it announced none.
export function readSmimeCapabilities(signerInfo: pkijs.SignerInfo): string[] | null {
  const attribute = signerInfo.signedAttrs?.attributes.find((a) => a.type === OID.smimeCapabilities);
  const list = attribute?.values[0];
  if (!(list instanceof asn1js.Sequence)) return null;
  const oids: string[] = [];
  for (const entry of list.valueBlock.value.slice(0, MAX_CAPABILITIES)) {
    const id = entry instanceof asn1js.Sequence ? entry.valueBlock.value[0] : undefined;
    if (id instanceof asn1js.ObjectIdentifier) oids.push(id.getValue());
  }
  return oids;
}

// Stored as the OIDs separated by spaces.
export const packCapabilities = (oids: string[] | null | undefined) => (oids ? oids.join(' ') : null);
export const unpackCapabilities = (packed: string | null) => (packed === null ? null : packed.split(' ').filter(Boolean));

export type ChooseCipherOptions = { capabilities: string[] | null };

// AES-256-GCM (AuthEnvelopedData) for a recipient known to read it, AES-256-CBC otherwise: every
// S/MIME client reads that (RFC 8551 §2.7).
export const chooseCipher = ({ capabilities }: ChooseCipherOptions): TSmimeCipher =>
  capabilities?.includes(OID.aes256Gcm) ? 'aes256-gcm' : 'aes256-cbc';
