import crypto from 'node:crypto';
import { AppError } from '../errors';
import { asn1js, parseCertificate, pkijs, toArrayBuffer } from './cms';
import { fetchCrl } from './fetch-crl';

const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const KEY_USAGE = '2.5.29.15';
const EXT_KEY_USAGE = '2.5.29.37';
const SUBJECT_ALT_NAME = '2.5.29.17';
const CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';
// KeyUsage bits (RFC 5280 §4.2.1.3), numbered from the first bit of the BIT STRING.
const KU = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, keyAgreement: 4 } as const;
const ANY_EKU = '2.5.29.37.0';
const MAX_CHAIN = 6;

export type TCertificatePurpose = 'sign' | 'encrypt';

export type CheckCertificateOptions = {
  der: Uint8Array;
  // Intermediates offered with it (from a PKCS#12 file or a signature).
  chain?: Uint8Array[];
  // The address the certificate must name (its SAN rfc822Name, or the subject's emailAddress).
  address?: string;
  purpose: TCertificatePurpose;
  trustAnchors: crypto.X509Certificate[];
  now?: number;
  // Revocation by CRL: fetched from the leaf's distribution points, bounded in time and size.
  checkCrl?: boolean;
  crlTimeoutMs?: number;
};

export type TCheckedCertificate = {
  fingerprint: string;
  notAfter: number;
  addresses: string[];
  subject: string;
  // What could not be checked (a CRL not reachable), said plainly.
  notes: string[];
};

export const parseX509 = (der: Uint8Array, what = 'The certificate') => {
  try {
    return new crypto.X509Certificate(der);
  } catch {
    throw new AppError('BAD_REQUEST', `${what} is not a valid X.509 certificate`);
  }
};

// Whether a certificate may be used for S/MIME with this address, now: its dates, its key usage
// and extended key usage (emailProtection), the address it names, a chain to a trust anchor, and
// (where a distribution point answers) that it is not revoked. Each refusal says which check failed.
export async function checkCertificate(o: CheckCertificateOptions): Promise<TCheckedCertificate> {
  const now = o.now ?? Date.now();
  const leaf = parseX509(o.der);
  const parsed = parseCertificate(o.der);
  const subject = leaf.subject.replace(/\n/g, ', ');
  const label = `The certificate for ${subject}`;
  checkDates(leaf, label, now);
  checkUsage(parsed, leaf, label, o.purpose);
  const addresses = certificateAddresses(parsed);
  if (o.address && !addresses.includes(o.address.toLowerCase()))
    throw new AppError(
      'UNPROCESSABLE',
      `${label} is for ${addresses.join(', ') || 'no email address'}, not ${o.address.toLowerCase()}: wrong address`,
    );
  const path = buildChain({
    leaf,
    offered: (o.chain ?? []).map((c) => parseX509(c, 'A chain certificate')),
    anchors: o.trustAnchors,
    now,
    label,
  });
  const notes: string[] = [];
  if (o.checkCrl !== false) {
    const issuer = path[1] ?? leaf;
    notes.push(...(await checkRevocation({ parsed, issuer, label, now, timeoutMs: o.crlTimeoutMs ?? 5_000 })));
  }
  return {
    fingerprint: leaf.fingerprint256.replace(/:/g, '').toLowerCase(),
    notAfter: Date.parse(leaf.validTo),
    addresses,
    subject,
    notes,
  };
}

function checkDates(cert: crypto.X509Certificate, label: string, now: number) {
  if (now > Date.parse(cert.validTo)) throw new AppError('UNPROCESSABLE', `${label} expired on ${new Date(cert.validTo).toISOString()}`);
  if (now < Date.parse(cert.validFrom))
    throw new AppError('UNPROCESSABLE', `${label} is not valid before ${new Date(cert.validFrom).toISOString()}`);
}

const extension = (cert: pkijs.Certificate, id: string) => cert.extensions?.find((e) => e.extnID === id)?.parsedValue;

// Whether a KeyUsage BIT STRING has bit n set (bit 0 is the high bit of the first byte).
const hasBit = (bits: asn1js.BitString, n: number) => {
  const bytes = bits.valueBlock.valueHexView;
  return ((bytes[n >> 3] ?? 0) & (0x80 >> (n & 7))) !== 0;
};

// RFC 8550 §4.4: signing needs digitalSignature or nonRepudiation; encryption keyEncipherment
// (RSA) or keyAgreement (EC). An extended key usage, where present, must allow emailProtection.
function checkUsage(cert: pkijs.Certificate, node: crypto.X509Certificate, label: string, purpose: TCertificatePurpose) {
  const ku = extension(cert, KEY_USAGE);
  if (ku instanceof asn1js.BitString) {
    const isEc = node.publicKey.asymmetricKeyType === 'ec';
    const needed = purpose === 'sign' ? [KU.digitalSignature, KU.nonRepudiation] : [isEc ? KU.keyAgreement : KU.keyEncipherment];
    if (!needed.some((bit) => hasBit(ku, bit)))
      throw new AppError(
        'UNPROCESSABLE',
        `${label} has the wrong key usage: ${purpose === 'sign' ? 'digitalSignature' : isEc ? 'keyAgreement' : 'keyEncipherment'} is needed to ${purpose}`,
      );
  }
  const eku = extension(cert, EXT_KEY_USAGE);
  if (eku instanceof pkijs.ExtKeyUsage && !eku.keyPurposes.some((u) => u === EMAIL_PROTECTION || u === ANY_EKU))
    throw new AppError('UNPROCESSABLE', `${label} has the wrong extended key usage: it does not allow emailProtection (S/MIME)`);
}

// The addresses a certificate names: its SAN rfc822Names, else its subject's emailAddress.
export function certificateAddresses(cert: pkijs.Certificate): string[] {
  const san = extension(cert, SUBJECT_ALT_NAME);
  const fromSan = san instanceof pkijs.AltName ? san.altNames.filter((n) => n.type === 1).map((n) => String(n.value).toLowerCase()) : [];
  if (fromSan.length) return fromSan;
  return cert.subject.typesAndValues.filter((tv) => tv.type === EMAIL_ADDRESS).map((tv) => String(tv.value.valueBlock.value).toLowerCase());
}

type BuildChainOptions = {
  leaf: crypto.X509Certificate;
  offered: crypto.X509Certificate[];
  anchors: crypto.X509Certificate[];
  now: number;
  label: string;
};

// Leaf → intermediates → an anchor, each link's signature checked by Node's crypto, each CA
// within its dates and marked a CA. Returns the path (the anchor last).
function buildChain({ leaf, offered, anchors, now, label }: BuildChainOptions): crypto.X509Certificate[] {
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth += 1) {
    const anchor = anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) {
      if (now > Date.parse(anchor.validTo)) throw new AppError('UNPROCESSABLE', `${label} chains to a CA that expired: ${anchor.subject}`);
      if (anchor.fingerprint256 !== current.fingerprint256) path.push(anchor);
      return path;
    }
    const next = offered.find((c) => c.ca && current.checkIssued(c) && current.verify(c.publicKey) && !path.includes(c));
    if (!next) break;
    checkDates(next, `An intermediate CA of ${label.toLowerCase()}`, now);
    path.push(next);
    current = next;
  }
  throw new AppError('UNPROCESSABLE', `${label} is untrusted: it does not chain to the system CA bundle or a CA the tenant added`);
}

type CheckRevocationOptions = { parsed: pkijs.Certificate; issuer: crypto.X509Certificate; label: string; now: number; timeoutMs: number };

// The URIs of the certificate's CRL distribution points (http and https only).
function crlUrls(cert: pkijs.Certificate): string[] {
  const points = extension(cert, CRL_DISTRIBUTION_POINTS);
  if (!(points instanceof pkijs.CRLDistributionPoints)) return [];
  return points.distributionPoints
    .flatMap((p) => (Array.isArray(p.distributionPoint) ? p.distributionPoint : []))
    .filter((n) => n.type === 6)
    .map((n) => String(n.value))
    .filter((u) => /^https?:\/\//i.test(u));
}

async function checkRevocation({ parsed, issuer, label, now, timeoutMs }: CheckRevocationOptions): Promise<string[]> {
  const urls = crlUrls(parsed);
  if (!urls.length) return [];
  const issuerCertificate = parseCertificate(new Uint8Array(issuer.raw));
  for (const url of urls.slice(0, 3)) {
    const der = await fetchCrl({ url, timeoutMs });
    if (!der) continue;
    let crl: pkijs.CertificateRevocationList;
    try {
      const asn = asn1js.fromBER(toArrayBuffer(der), { maxDepth: 32, maxNodes: 2_000_000, maxContentLength: der.length });
      if (asn.offset === -1) continue;
      crl = new pkijs.CertificateRevocationList({ schema: asn.result });
      if (!(await crl.verify({ issuerCertificate }))) continue;
    } catch {
      continue;
    }
    if (crl.nextUpdate && crl.nextUpdate.value.getTime() < now - 7 * 86400_000) continue;
    if (crl.isCertificateRevoked(parsed)) throw new AppError('UNPROCESSABLE', `${label} has been revoked (CRL at ${url})`);
    return [];
  }
  return [`revocation not checked: no CRL distribution point answered (${urls.join(', ')})`];
}
