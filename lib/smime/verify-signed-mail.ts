import { AppError } from '../errors';
import { OID, parseCms, pkijs, toArrayBuffer } from './cms';
import { readSmimeCapabilities } from './smime-capabilities';
import { readContentType, splitEntity, splitMessage, splitMultipart } from './mime-entity';

export type TVerifiedSignature = {
  // The signer's certificate (DER) and the other certificates the signature carried.
  signer: Uint8Array;
  certificates: Uint8Array[];
  // The content ciphers the signer announced (SMIMECapabilities OIDs), null when none.
  capabilities: string[] | null;
  // The signed entity, exactly as signed.
  entity: Buffer;
};

// content: the detached content; left out, the content the SignedData carries (opaque signed-data).
export type VerifyCmsOptions = { signature: Uint8Array; content?: Buffer };

// A detached SignedData over the content: one signer, SHA-256 or stronger, its signature and its
// message digest checked. Whether the signer is trusted is the certificate checks' question.
export async function verifyCms({
  signature,
  content: detached,
}: VerifyCmsOptions): Promise<Omit<TVerifiedSignature, 'entity'> & { content: Buffer }> {
  const info = parseCms({ der: signature, expect: 'signedData' });
  let signed: pkijs.SignedData;
  try {
    signed = new pkijs.SignedData({ schema: info.content });
  } catch {
    throw new AppError('BAD_REQUEST', 'The S/MIME signature is not a valid CMS SignedData');
  }
  if (signed.signerInfos.length !== 1)
    throw new AppError('BAD_REQUEST', `The S/MIME signature has ${signed.signerInfos.length} signers, not one`);
  const digest = signed.signerInfos[0]!.digestAlgorithm.algorithmId;
  if (!['2.16.840.1.101.3.4.2.1', '2.16.840.1.101.3.4.2.2', '2.16.840.1.101.3.4.2.3'].includes(digest))
    throw new AppError('BAD_REQUEST', `The S/MIME signature uses digest ${digest}: only SHA-256, SHA-384 and SHA-512 are accepted`);
  if (signed.encapContentInfo.eContentType !== OID.data)
    throw new AppError('BAD_REQUEST', `The S/MIME signature covers content of type ${signed.encapContentInfo.eContentType}, not data`);
  const certificates = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const eContent = signed.encapContentInfo.eContent;
  const content = detached ?? (eContent ? Buffer.from(eContent.getValue()) : null);
  if (!content) throw new AppError('BAD_REQUEST', 'The S/MIME signature carries no content and none was given beside it');
  let result: pkijs.SignedDataVerifyResult;
  try {
    result = await signed.verify({ signer: 0, data: toArrayBuffer(content), checkChain: false, extendedMode: true });
  } catch (error) {
    const message = (error as { message?: string }).message ?? 'verification failed';
    throw new AppError('UNPROCESSABLE', `The S/MIME signature does not verify: ${message}`);
  }
  if (!result.signatureVerified || !result.signerCertificate)
    throw new AppError('UNPROCESSABLE', `The S/MIME signature does not verify: ${result.message}`);
  const signer = new Uint8Array(result.signerCertificate.toSchema().toBER(false));
  return {
    signer,
    certificates: certificates.map((c) => new Uint8Array(c.toSchema().toBER(false))),
    capabilities: readSmimeCapabilities(signed.signerInfos[0]!),
    content,
  };
}

export type VerifySignedMailOptions = { raw: Buffer };

// A multipart/signed message (RFC 8551 §3.5.3): its first part as signed, its second the
// detached signature. Returns null for a message that is not S/MIME signed.
export async function verifySignedMail({ raw }: VerifySignedMailOptions): Promise<TVerifiedSignature | null> {
  const message = splitMessage({ raw });
  return verifySignedEntity({ entity: message.entity });
}

export type VerifySignedEntityOptions = { entity: Buffer };

export async function verifySignedEntity({ entity }: VerifySignedEntityOptions): Promise<TVerifiedSignature | null> {
  const { fields, body } = splitEntity({ entity });
  const type = readContentType(fields);
  if (type.value !== 'multipart/signed') return null;
  const protocol = (type.params.protocol ?? '').toLowerCase();
  if (protocol !== 'application/pkcs7-signature' && protocol !== 'application/x-pkcs7-signature') return null;
  const parts = splitMultipart({ body, boundary: type.params.boundary ?? '', maxParts: 2 });
  if (parts.length !== 2) throw new AppError('BAD_REQUEST', `The signed message has ${parts.length} parts, not two`);
  const [signedPart, signaturePart] = parts as [Buffer, Buffer];
  const sig = splitEntity({ entity: signaturePart });
  const sigType = readContentType(sig.fields).value;
  if (sigType !== 'application/pkcs7-signature' && sigType !== 'application/x-pkcs7-signature')
    throw new AppError('BAD_REQUEST', `The signature part is ${sigType}, not application/pkcs7-signature`);
  const der = Buffer.from(sig.body.toString('latin1').replace(/[\r\n\t ]/g, ''), 'base64');
  const { content: _, ...verified } = await verifyCms({ signature: der, content: signedPart });
  return { ...verified, entity: signedPart };
}

const SIGNED_TYPES = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

// An application/pkcs7-mime; smime-type=signed-data entity (RFC 8551 §3.5.2, "opaque" signing):
// the signed entity is inside the SignedData. Null for an entity that is not one.
export async function verifyOpaqueSignedEntity({ entity }: VerifySignedEntityOptions): Promise<TVerifiedSignature | null> {
  const { fields, body } = splitEntity({ entity });
  const type = readContentType(fields);
  if (!SIGNED_TYPES.has(type.value) || (type.params['smime-type'] ?? '').toLowerCase() !== 'signed-data') return null;
  const der = Buffer.from(body.toString('latin1').replace(/[\r\n\t ]/g, ''), 'base64');
  const { content, ...verified } = await verifyCms({ signature: der });
  return { ...verified, entity: content };
}
