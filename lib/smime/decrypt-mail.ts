import crypto from 'node:crypto';
import { AppError } from '../errors';
import { AuthEnvelopedData, decryptAuthEnveloped } from './auth-enveloped-data';
import { OID, parseCertificate, parseCms, pkijs, toArrayBuffer } from './cms';
import { readContentType, splitEntity, splitMessage } from './mime-entity';

const RSA_PKCS1 = '1.2.840.113549.1.1.1';
const CONTENT_CIPHERS = new Set([OID.aes256Cbc, OID.aes128Cbc, '2.16.840.1.101.3.4.1.22']);

export type DecryptCmsOptions = { der: Uint8Array; certificate: Uint8Array; pkcs8Pem: string };

// The content of an EnvelopedData (AES-CBC only: older ciphers, 3DES and RC2, are refused by
// name) or an AuthEnvelopedData (AES-GCM, its tag checked) addressed to this certificate (key
// transport or ECDH key agreement).
export async function decryptCms({ der, certificate, pkcs8Pem }: DecryptCmsOptions): Promise<Buffer> {
  const info = parseCms({ der, expect: ['envelopedData', 'authEnvelopedData'] });
  const cert = parseCertificate(certificate);
  const pkcs8 = toArrayBuffer(crypto.createPrivateKey(pkcs8Pem).export({ type: 'pkcs8', format: 'der' }));
  if (info.contentType === OID.authEnvelopedData) {
    const auth = AuthEnvelopedData.fromSchema(info.content);
    const index = findRecipient(auth.recipientInfos, cert);
    return decryptAuthEnveloped({ auth, index, recipientCertificate: cert, recipientPrivateKey: pkcs8 });
  }
  let enveloped: pkijs.EnvelopedData;
  try {
    enveloped = new pkijs.EnvelopedData({ schema: info.content });
  } catch {
    throw new AppError('BAD_REQUEST', 'The S/MIME envelope is not a valid CMS EnvelopedData');
  }
  const cipher = enveloped.encryptedContentInfo.contentEncryptionAlgorithm.algorithmId;
  if (!CONTENT_CIPHERS.has(cipher as never))
    throw new AppError('BAD_REQUEST', `The S/MIME envelope uses content cipher ${cipher}: only AES-CBC is accepted`);
  const index = findRecipient(enveloped.recipientInfos, cert);
  try {
    const plain = await enveloped.decrypt(index, { recipientCertificate: cert, recipientPrivateKey: pkcs8 });
    return Buffer.from(plain);
  } catch (error) {
    throw new AppError('UNPROCESSABLE', `The S/MIME envelope cannot be opened: ${(error as Error).message}`);
  }
}

// The index of this certificate's RecipientInfo, refused when there is none or when it uses RSA
// PKCS#1 v1.5: WebCrypto does not have it, and Node refuses its decryption (the Marvin attack).
function findRecipient(recipients: pkijs.RecipientInfo[], cert: pkijs.Certificate): number {
  const index = recipients.findIndex((r) => isFor(r, cert));
  if (index < 0) throw new AppError('UNPROCESSABLE', 'The S/MIME envelope is not addressed to this certificate');
  const recipient = recipients[index]!.value;
  if (recipient instanceof pkijs.KeyTransRecipientInfo && recipient.keyEncryptionAlgorithm.algorithmId === RSA_PKCS1)
    throw new AppError(
      'UNPROCESSABLE',
      'The S/MIME envelope uses RSA PKCS#1 v1.5 key transport, which Sealpost does not decrypt: the sender must use RSA-OAEP',
    );
  return index;
}

// Key transport names the recipient by issuer and serial number; key agreement lists its
// recipients in recipientEncryptedKeys.
function isFor(recipient: pkijs.RecipientInfo, cert: pkijs.Certificate): boolean {
  const matches = (rid: unknown) =>
    rid instanceof pkijs.IssuerAndSerialNumber && rid.issuer.isEqual(cert.issuer) && rid.serialNumber.isEqual(cert.serialNumber);
  const value = recipient.value;
  if (value instanceof pkijs.KeyTransRecipientInfo) return matches(value.rid);
  if (value instanceof pkijs.KeyAgreeRecipientInfo) return value.recipientEncryptedKeys.encryptedKeys.some((k) => matches(k.rid.value));
  return false;
}

export type DecryptMailOptions = { raw: Buffer; certificate: Uint8Array; pkcs8Pem: string };

const ENVELOPE_TYPES = new Set(['enveloped-data', 'authenveloped-data']);

// An application/pkcs7-mime enveloped-data or authEnveloped-data message opened: the MIME entity it carried.
export async function decryptMail({ raw, certificate, pkcs8Pem }: DecryptMailOptions): Promise<Buffer> {
  const { entity } = splitMessage({ raw });
  const { fields, body } = splitEntity({ entity });
  const type = readContentType(fields);
  const smimeType = (type.params['smime-type'] ?? 'enveloped-data').toLowerCase();
  if ((type.value !== 'application/pkcs7-mime' && type.value !== 'application/x-pkcs7-mime') || !ENVELOPE_TYPES.has(smimeType))
    throw new AppError('BAD_REQUEST', `The message is ${type.value}, not an S/MIME enveloped-data or authEnveloped-data message`);
  const der = Buffer.from(body.toString('latin1').replace(/[\r\n\t ]/g, ''), 'base64');
  return decryptCms({ der, certificate, pkcs8Pem });
}
