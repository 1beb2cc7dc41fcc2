import crypto from 'node:crypto';
import { AppError } from '../errors';
import { OID, parseCertificate, parseCms, pkijs, toArrayBuffer } from './cms';
import { readContentType, splitEntity, splitMessage } from './mime-entity';

const RSA_PKCS1 = '1.2.840.113549.1.1.1';
const CONTENT_CIPHERS = new Set([OID.aes256Cbc, OID.aes128Cbc, '2.16.840.1.101.3.4.1.22']);

export type DecryptCmsOptions = { der: Uint8Array; certificate: Uint8Array; pkcs8Pem: string };

// The content of an EnvelopedData addressed to this certificate (key transport or ECDH key
// agreement), AES-CBC only: older ciphers (3DES, RC2) are refused by name.
export async function decryptCms({ der, certificate, pkcs8Pem }: DecryptCmsOptions): Promise<Buffer> {
  const info = parseCms({ der, expect: 'envelopedData' });
  let enveloped: pkijs.EnvelopedData;
  try {
    enveloped = new pkijs.EnvelopedData({ schema: info.content });
  } catch {
    throw new AppError('BAD_REQUEST', 'The S/MIME envelope is not a valid CMS EnvelopedData');
  }
  const cipher = enveloped.encryptedContentInfo.contentEncryptionAlgorithm.algorithmId;
  if (!CONTENT_CIPHERS.has(cipher as never))
    throw new AppError('BAD_REQUEST', `The S/MIME envelope uses content cipher ${cipher}: only AES-CBC is accepted`);
  const cert = parseCertificate(certificate);
  const pkcs8 = crypto.createPrivateKey(pkcs8Pem).export({ type: 'pkcs8', format: 'der' });
  const index = enveloped.recipientInfos.findIndex((r) => isFor(r, cert));
  if (index < 0) throw new AppError('UNPROCESSABLE', 'The S/MIME envelope is not addressed to this certificate');
  const recipient = enveloped.recipientInfos[index]!.value;
  // WebCrypto has no RSAES-PKCS1-v1_5, and Node refuses its decryption (the Marvin attack).
  if (recipient instanceof pkijs.KeyTransRecipientInfo && recipient.keyEncryptionAlgorithm.algorithmId === RSA_PKCS1)
    throw new AppError(
      'UNPROCESSABLE',
      'The S/MIME envelope uses RSA PKCS#1 v1.5 key transport, which Sealpost does not decrypt: the sender must use RSA-OAEP',
    );
  try {
    const plain = await enveloped.decrypt(index, { recipientCertificate: cert, recipientPrivateKey: toArrayBuffer(pkcs8) });
    return Buffer.from(plain);
  } catch (error) {
    throw new AppError('UNPROCESSABLE', `The S/MIME envelope cannot be opened: ${(error as Error).message}`);
  }
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

// An application/pkcs7-mime enveloped-data message opened: the MIME entity it carried.
export async function decryptMail({ raw, certificate, pkcs8Pem }: DecryptMailOptions): Promise<Buffer> {
  const { entity } = splitMessage({ raw });
  const { fields, body } = splitEntity({ entity });
  const type = readContentType(fields);
  const smimeType = (type.params['smime-type'] ?? 'enveloped-data').toLowerCase();
  if ((type.value !== 'application/pkcs7-mime' && type.value !== 'application/x-pkcs7-mime') || smimeType !== 'enveloped-data')
    throw new AppError('BAD_REQUEST', `The message is ${type.value}, not an S/MIME enveloped-data message`);
  const der = Buffer.from(body.toString('latin1').replace(/[\r\n\t ]/g, ''), 'base64');
  return decryptCms({ der, certificate, pkcs8Pem });
}
