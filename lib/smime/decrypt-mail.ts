import crypto from 'node:crypto';
import * as asn1js from 'asn1js';
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
    if (isPkcs1Transport(auth.recipientInfos[index]!.value))
      throw new AppError(
        'UNPROCESSABLE',
        'The S/MIME envelope is AES-GCM with RSA PKCS#1 v1.5 key transport, which Sealpost does not decrypt: the sender must use RSA-OAEP',
      );
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
  const recipient = enveloped.recipientInfos[index]!.value;
  if (isPkcs1Transport(recipient)) return decryptPkcs1Transport({ enveloped, recipient, pkcs8Pem });
  try {
    const plain = await enveloped.decrypt(index, { recipientCertificate: cert, recipientPrivateKey: pkcs8 });
    return Buffer.from(plain);
  } catch (error) {
    throw new AppError('UNPROCESSABLE', `The S/MIME envelope cannot be opened: ${(error as Error).message}`);
  }
}

// The index of this certificate's RecipientInfo, refused when there is none.
function findRecipient(recipients: pkijs.RecipientInfo[], cert: pkijs.Certificate): number {
  const index = recipients.findIndex((r) => isFor(r, cert));
  if (index < 0) throw new AppError('UNPROCESSABLE', 'The S/MIME envelope is not addressed to this certificate');
  return index;
}

const isPkcs1Transport = (recipient: unknown): recipient is pkijs.KeyTransRecipientInfo =>
  recipient instanceof pkijs.KeyTransRecipientInfo && recipient.keyEncryptionAlgorithm.algorithmId === RSA_PKCS1;

const CBC_CIPHERS: Record<string, { name: string; keyBytes: number }> = {
  [OID.aes256Cbc]: { name: 'aes-256-cbc', keyBytes: 32 },
  [OID.aes128Cbc]: { name: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyBytes: 24 },
};

type DecryptPkcs1TransportOptions = { enveloped: pkijs.EnvelopedData; recipient: pkijs.KeyTransRecipientInfo; pkcs8Pem: string };

// RSA PKCS#1 v1.5 key transport: what Outlook, Apple Mail, Thunderbird and `openssl cms -encrypt`
// use unless told otherwise. WebCrypto has no such decryption, so pkijs cannot do it; Node's
// privateDecrypt does, through OpenSSL's implicit rejection (3.2 and later: a bad padding yields a
// key derived from the ciphertext instead of an error, so a sender learns nothing from how the
// decryption fails — no Bleichenbacher or Marvin oracle). Node refuses the padding outright where
// its OpenSSL lacks implicit rejection; that is reported by name. A wrong key then fails the
// AES-CBC padding check, with the same message as any other envelope that does not open.
function decryptPkcs1Transport({ enveloped, recipient, pkcs8Pem }: DecryptPkcs1TransportOptions): Buffer {
  const info = enveloped.encryptedContentInfo;
  const cipher = CBC_CIPHERS[info.contentEncryptionAlgorithm.algorithmId]!;
  const iv = info.contentEncryptionAlgorithm.algorithmParams;
  if (!(iv instanceof asn1js.OctetString) || iv.valueBlock.valueHexView.byteLength !== 16)
    throw new AppError('BAD_REQUEST', 'The S/MIME envelope has no valid AES-CBC initialisation vector');
  let key: Buffer;
  try {
    key = crypto.privateDecrypt(
      { key: pkcs8Pem, padding: crypto.constants.RSA_PKCS1_PADDING },
      Buffer.from(recipient.encryptedKey.valueBlock.valueHexView),
    );
  } catch (error) {
    const refused = /RSA_PKCS1_PADDING is no longer supported/i.test((error as Error).message);
    throw new AppError(
      'UNPROCESSABLE',
      refused
        ? "The S/MIME envelope uses RSA PKCS#1 v1.5 key transport, which this Node.js's OpenSSL cannot decrypt safely (no implicit rejection): the sender must use RSA-OAEP"
        : 'The S/MIME envelope cannot be opened',
    );
  }
  try {
    if (key.length !== cipher.keyBytes) throw new Error('key length');
    const decipher = crypto.createDecipheriv(cipher.name, key, Buffer.from(iv.valueBlock.valueHexView));
    return Buffer.concat([decipher.update(Buffer.from(info.getEncryptedContent())), decipher.final()]);
  } catch {
    throw new AppError('UNPROCESSABLE', 'The S/MIME envelope cannot be opened');
  } finally {
    key.fill(0);
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
