import crypto from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { AppError } from '../errors';

// pkijs does the CMS and X.509 structures (no ASN.1 is written here); Node's WebCrypto does the
// cryptography. Set once per process.
pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: crypto.webcrypto as unknown as Crypto }));

// pkijs 4.0.0 derives an ECDH key-encryption key with an empty entityUInfo where the sender sent
// no ukm (OpenSSL never sends one); RFC 5753 §7.2 leaves entityUInfo out then, so an envelope
// OpenSSL made for an EC certificate would not open. Without a default the field is left out.
// (pkijs always writes a ukm itself, so what Sealpost encrypts is unchanged.)
const sharedInfoDefaults = pkijs.ECCCMSSharedInfo.defaultValues.bind(pkijs.ECCCMSSharedInfo) as (name: string) => unknown;
(pkijs.ECCCMSSharedInfo as unknown as { defaultValues(name: string): unknown }).defaultValues = (name: string) =>
  name === 'entityUInfo' ? undefined : sharedInfoDefaults(name);

export { asn1js, pkijs };

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  smimeCapabilities: '1.2.840.113549.1.9.15',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes256Gcm: '2.16.840.1.101.3.4.1.46',
  aes128Gcm: '2.16.840.1.101.3.4.1.6',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

// A CMS object is at most this large: a 25 MB message in base64 inside a signature or an
// envelope, with room to spare. Larger input is refused before it is parsed.
export const MAX_CMS_BYTES = 48 * 1024 * 1024;
// Real CMS nests about a dozen levels (ContentInfo, SignedData, SignerInfo, attributes, a
// certificate's name and extensions); anything deeper is built to exhaust a parser.
export const MAX_CMS_DEPTH = 64;

// An envelope streamed by OpenSSL splits its content into 1 KB pieces: 25 MB is about 25,000 nodes.
export const MAX_CMS_NODES = 200_000;

type TCmsKind = 'signedData' | 'envelopedData' | 'authEnvelopedData';
export type ParseCmsOptions = { der: Uint8Array; expect: TCmsKind | TCmsKind[] };

// A ContentInfo of the expected type, or a clear refusal: oversized, deeper than any real CMS,
// truncated or with trailing bytes, or of another content type.
export function parseCms({ der, expect }: ParseCmsOptions): pkijs.ContentInfo {
  if (der.length > MAX_CMS_BYTES)
    throw new AppError('PAYLOAD_TOO_LARGE', `The S/MIME object is ${der.length} bytes, more than the ${MAX_CMS_BYTES} allowed`);
  if (der.length < 2) throw new AppError('BAD_REQUEST', 'The S/MIME object is empty or truncated');
  // asn1js's own limits for untrusted input: it returns an error instead of recursing or counting on.
  const parsed = asn1js.fromBER(der, {
    maxDepth: MAX_CMS_DEPTH,
    maxNodes: MAX_CMS_NODES,
    maxContentLength: MAX_CMS_BYTES,
    parseEmbedded: false,
  });
  if (parsed.offset === -1) throw new AppError('BAD_REQUEST', `The S/MIME object is not valid DER/BER: ${parsed.result.error}`);
  if (parsed.offset !== der.length) throw new AppError('BAD_REQUEST', 'The S/MIME object has bytes after its end');
  let info: pkijs.ContentInfo;
  try {
    info = new pkijs.ContentInfo({ schema: parsed.result });
  } catch {
    throw new AppError('BAD_REQUEST', 'The S/MIME object is not a CMS ContentInfo');
  }
  const wanted = [expect].flat();
  if (!wanted.some((kind) => OID[kind] === info.contentType))
    throw new AppError(
      'BAD_REQUEST',
      `The S/MIME object is of content type ${info.contentType}, not ${wanted.map((kind) => `${kind} (${OID[kind]})`).join(' or ')}`,
    );
  return info;
}

export const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(toArrayBuffer(der));
  } catch {
    throw new AppError('BAD_REQUEST', 'The certificate is not a valid X.509 certificate');
  }
}
