import crypto from 'node:crypto';
import { asn1js, OID, parseCertificate, pkijs, toArrayBuffer } from './cms';
import { base64Lines, newBoundary } from './mime-entity';
import { capabilitiesAttributeValue, SEALPOST_CAPABILITIES } from './smime-capabilities';
import type { TSmimeSigner } from './signer-key';

export type SignCmsOptions = { content: Buffer; signer: TSmimeSigner; now?: Date };

// A detached CMS SignedData over the content (RFC 5652 §5): SHA-256, the signed attributes
// RFC 8551 §2.5 asks for (content type, signing time, message digest, S/MIME capabilities), and
// the signer's certificate with its chain.
export async function signCms({ content, signer, now = new Date() }: SignCmsOptions): Promise<Uint8Array> {
  const [leaf, ...chain] = signer.certificates.map(parseCertificate);
  if (!leaf) throw new Error('signCms needs the signer certificate');
  const digest = crypto.createHash('sha256').update(content).digest();
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: leaf.issuer, serialNumber: leaf.serialNumber }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({
      type: 0,
      attributes: [
        new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
        new pkijs.Attribute({ type: OID.signingTime, values: [new asn1js.UTCTime({ valueDate: now })] }),
        new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: toArrayBuffer(digest) })] }),
        new pkijs.Attribute({ type: OID.smimeCapabilities, values: [capabilitiesAttributeValue(SEALPOST_CAPABILITIES)] }),
      ],
    }),
  });
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: [signerInfo],
    certificates: [leaf, ...chain],
  });
  await signedData.sign(signer.privateKey, 0, 'SHA-256');
  const info = new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema(true) });
  return new Uint8Array(info.toSchema().toBER(false));
}

export type SignEntityOptions = { entity: Buffer; signer: TSmimeSigner; now?: Date };

// The entity wrapped as multipart/signed with a detached application/pkcs7-signature part
// (RFC 8551 §3.5.3). The entity's bytes are signed exactly as they are written.
export async function signEntity({ entity, signer, now }: SignEntityOptions): Promise<Buffer> {
  const signature = await signCms({ content: entity, signer, now });
  const boundary = newBoundary();
  return Buffer.concat([
    Buffer.from(
      `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;\r\n boundary="${boundary}"\r\n\r\n` +
        `This is an S/MIME signed message\r\n\r\n--${boundary}\r\n`,
    ),
    entity,
    Buffer.from(
      `\r\n--${boundary}\r\nContent-Type: application/pkcs7-signature; name="smime.p7s"\r\nContent-Transfer-Encoding: base64\r\n` +
        `Content-Disposition: attachment; filename="smime.p7s"\r\n\r\n${base64Lines(signature)}\r\n--${boundary}--\r\n`,
    ),
  ]);
}
