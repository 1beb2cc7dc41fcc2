import { AppError } from '../errors';
import { OID, parseCertificate, pkijs, toArrayBuffer } from './cms';
import { base64Lines } from './mime-entity';

const EC_KEY = '1.2.840.10045.2.1';

export type EncryptCmsOptions = { content: Buffer; recipients: Uint8Array[] };

// CMS EnvelopedData (RFC 5652 §6) with AES-256-CBC content encryption: RSA certificates get the
// content key by RSAES-OAEP with SHA-256 (RFC 8017), EC certificates by ECDH key agreement
// (dhSinglePass-stdDH-sha256kdf, AES-256 key wrap; RFC 5753). pkijs has no AuthEnvelopedData,
// so AES-GCM (which RFC 5084 allows only there) is not offered.
export async function encryptCms({ content, recipients }: EncryptCmsOptions): Promise<Uint8Array> {
  if (!recipients.length) throw new AppError('BAD_REQUEST', 'An S/MIME envelope needs at least one recipient certificate');
  // One OCTET STRING (DER), not pkijs's default of 1 KB pieces copied byte by byte: a 25 MB
  // message took seconds that way.
  const enveloped = new pkijs.EnvelopedData({ disableSplit: true });
  for (const der of recipients) {
    const cert = parseCertificate(der);
    const isEc = cert.subjectPublicKeyInfo.algorithm.algorithmId === EC_KEY;
    enveloped.addRecipientByCertificate(
      cert,
      { oaepHashAlgorithm: 'SHA-256', kdfAlgorithm: 'SHA-256', kekEncryptionLength: 256 },
      isEc ? 2 : 1,
    );
  }
  await enveloped.encrypt({ name: 'AES-CBC', length: 256 } as Algorithm, toArrayBuffer(content));
  const info = new pkijs.ContentInfo({ contentType: OID.envelopedData, content: enveloped.toSchema() });
  return new Uint8Array(info.toSchema().toBER(false));
}

export type EncryptEntityOptions = EncryptCmsOptions;

// The entity as application/pkcs7-mime; smime-type=enveloped-data (RFC 8551 §3.3).
export async function encryptEntity({ content, recipients }: EncryptEntityOptions): Promise<Buffer> {
  const der = await encryptCms({ content, recipients });
  return Buffer.from(
    'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n' +
      'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="smime.p7m"\r\n\r\n' +
      base64Lines(der),
  );
}
