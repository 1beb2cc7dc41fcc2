import { AppError } from '../errors';
import { encryptAuthEnveloped } from './auth-enveloped-data';
import { OID, parseCertificate, pkijs, toArrayBuffer } from './cms';
import { base64Lines } from './mime-entity';

const EC_KEY = '1.2.840.10045.2.1';

// aes256-gcm: AuthEnvelopedData (RFC 5083) with AES-256-GCM, for recipients whose S/MIME
// capabilities list it; aes256-cbc: EnvelopedData (RFC 5652 §6) with AES-256-CBC, which every
// client reads (RFC 8551 §2.7).
export type TSmimeCipher = 'aes256-gcm' | 'aes256-cbc';

export type EncryptCmsOptions = { content: Buffer; recipients: Uint8Array[]; cipher?: TSmimeCipher };

// RSA certificates get the content key by RSAES-OAEP with SHA-256 (RFC 8017), EC certificates by
// ECDH key agreement (dhSinglePass-stdDH-sha256kdf, AES-256 key wrap; RFC 5753): pkijs's recipient
// code in both envelopes.
export async function encryptCms({ content, recipients, cipher = 'aes256-cbc' }: EncryptCmsOptions): Promise<Uint8Array> {
  if (!recipients.length) throw new AppError('BAD_REQUEST', 'An S/MIME envelope needs at least one recipient certificate');
  const certificates = recipients.map(parseCertificate);
  const addRecipients = (enveloped: pkijs.EnvelopedData) => {
    for (const cert of certificates) {
      const isEc = cert.subjectPublicKeyInfo.algorithm.algorithmId === EC_KEY;
      enveloped.addRecipientByCertificate(
        cert,
        { oaepHashAlgorithm: 'SHA-256', kdfAlgorithm: 'SHA-256', kekEncryptionLength: 256 },
        isEc ? 2 : 1,
      );
    }
  };
  if (cipher === 'aes256-gcm') {
    const auth = await encryptAuthEnveloped({ content, addRecipients });
    const info = new pkijs.ContentInfo({ contentType: OID.authEnvelopedData, content: auth.toSchema() });
    return new Uint8Array(info.toSchema().toBER(false));
  }
  // One OCTET STRING (DER), not pkijs's default of 1 KB pieces copied byte by byte: a 25 MB
  // message took seconds that way.
  const enveloped = new pkijs.EnvelopedData({ disableSplit: true });
  addRecipients(enveloped);
  await enveloped.encrypt({ name: 'AES-CBC', length: 256 } as Algorithm, toArrayBuffer(content));
  const info = new pkijs.ContentInfo({ contentType: OID.envelopedData, content: enveloped.toSchema() });
  return new Uint8Array(info.toSchema().toBER(false));
}

export type EncryptEntityOptions = EncryptCmsOptions;

// The entity as application/pkcs7-mime; smime-type=enveloped-data, or authEnveloped-data for
// AES-GCM (RFC 8551 §3.3, §3.4).
export async function encryptEntity({ content, recipients, cipher = 'aes256-cbc' }: EncryptEntityOptions): Promise<Buffer> {
  const der = await encryptCms({ content, recipients, cipher });
  const smimeType = cipher === 'aes256-gcm' ? 'authEnveloped-data' : 'enveloped-data';
  return Buffer.from(
    `Content-Type: application/pkcs7-mime; smime-type=${smimeType}; name="smime.p7m"\r\n` +
      'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="smime.p7m"\r\n\r\n' +
      base64Lines(der),
  );
}
