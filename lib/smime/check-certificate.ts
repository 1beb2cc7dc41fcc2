import crypto from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 serialisers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { AppError } from '../errors';
import { toArrayBuffer } from './cms';
import { fetchCrl } from './fetch-crl';

const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
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
  const peculiar = new x509.X509Certificate(toArrayBuffer(o.der));
  const subject = leaf.subject.replace(/\n/g, ', ');
  const label = `The certificate for ${subject}`;
  checkDates(leaf, label, now);
  checkUsage(peculiar, leaf, label, o.purpose);
  const addresses = certificateAddresses(peculiar);
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
    notes.push(...(await checkRevocation({ peculiar, issuer, label, now, timeoutMs: o.crlTimeoutMs ?? 5_000 })));
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

// RFC 8550 §4.4: signing needs digitalSignature or nonRepudiation; encryption keyEncipherment
// (RSA) or keyAgreement (EC). An extended key usage, where present, must allow emailProtection.
function checkUsage(cert: x509.X509Certificate, node: crypto.X509Certificate, label: string, purpose: TCertificatePurpose) {
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (ku) {
    const F = x509.KeyUsageFlags;
    const isEc = node.publicKey.asymmetricKeyType === 'ec';
    const needed = purpose === 'sign' ? F.digitalSignature | F.nonRepudiation : isEc ? F.keyAgreement : F.keyEncipherment;
    if ((ku.usages & needed) === 0)
      throw new AppError(
        'UNPROCESSABLE',
        `${label} has the wrong key usage: ${purpose === 'sign' ? 'digitalSignature' : isEc ? 'keyAgreement' : 'keyEncipherment'} is needed to ${purpose}`,
      );
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku && !eku.usages.some((u) => u === EMAIL_PROTECTION || u === ANY_EKU))
    throw new AppError('UNPROCESSABLE', `${label} has the wrong extended key usage: it does not allow emailProtection (S/MIME)`);
}

// The addresses a certificate names: its SAN rfc822Names, else its subject's emailAddress.
export function certificateAddresses(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const fromSan = san?.names.items.filter((n) => n.type === 'email').map((n) => n.value.toLowerCase()) ?? [];
  if (fromSan.length) return fromSan;
  return cert.subjectName.getField('E').map((e) => e.toLowerCase());
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

type CheckRevocationOptions = {
  peculiar: x509.X509Certificate;
  issuer: crypto.X509Certificate;
  label: string;
  now: number;
  timeoutMs: number;
};

async function checkRevocation({ peculiar, issuer, label, now, timeoutMs }: CheckRevocationOptions): Promise<string[]> {
  const points = peculiar.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints ?? [];
  const urls = points
    .flatMap((p) => p.distributionPoint?.fullName ?? [])
    .map((n) => n.uniformResourceIdentifier)
    .filter((u): u is string => !!u && /^https?:\/\//i.test(u));
  if (!urls.length) return [];
  for (const url of urls.slice(0, 3)) {
    const der = await fetchCrl({ url, timeoutMs });
    if (!der) continue;
    let crl: x509.X509Crl;
    try {
      crl = new x509.X509Crl(toArrayBuffer(der));
    } catch {
      continue;
    }
    const issuerKey = await new x509.X509Certificate(issuer.raw).publicKey.export();
    if (!(await crl.verify({ publicKey: issuerKey }))) continue;
    if (crl.nextUpdate && crl.nextUpdate.getTime() < now - 7 * 86400_000) continue;
    if (crl.findRevoked(peculiar)) throw new AppError('UNPROCESSABLE', `${label} has been revoked (CRL at ${url})`);
    return [];
  }
  return [`revocation not checked: no CRL distribution point answered (${urls.join(', ')})`];
}
