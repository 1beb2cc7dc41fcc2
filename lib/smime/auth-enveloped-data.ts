import crypto from 'node:crypto';
import { AppError } from '../errors';
import { asn1js, OID, pkijs, toArrayBuffer } from './cms';

// RFC 5083 AuthEnvelopedData, which pkijs 4.0.0 lacks, defined with asn1js's schema classes the
// way pkijs defines EnvelopedData (no encoding is written by hand):
//
//   AuthEnvelopedData ::= SEQUENCE {
//     version CMSVersion,                                 -- always 0
//     originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//     recipientInfos RecipientInfos,
//     authEncryptedContentInfo EncryptedContentInfo,
//     authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
//     mac MessageAuthenticationCode,                      -- the GCM tag (RFC 5084)
//     unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }
//
// The recipients are pkijs's RecipientInfo (key transport and key agreement, as in EnvelopedData).
export class AuthEnvelopedData {
  version = 0;
  recipientInfos: pkijs.RecipientInfo[] = [];
  authEncryptedContentInfo = new pkijs.EncryptedContentInfo();
  authAttrs: pkijs.Attribute[] | undefined;
  mac = new asn1js.OctetString();

  static schema() {
    return new asn1js.Sequence({
      value: [
        new asn1js.Integer({ name: 'version' }),
        new asn1js.Constructed({
          optional: true,
          idBlock: { tagClass: 3, tagNumber: 0 },
          value: pkijs.OriginatorInfo.schema().valueBlock.value,
        }),
        new asn1js.Set({ value: [new asn1js.Repeated({ name: 'recipientInfos', value: pkijs.RecipientInfo.schema() })] }),
        pkijs.EncryptedContentInfo.schema({ names: { blockName: 'authEncryptedContentInfo' } }),
        new asn1js.Constructed({
          optional: true,
          idBlock: { tagClass: 3, tagNumber: 1 },
          value: [new asn1js.Repeated({ name: 'authAttrs', value: pkijs.Attribute.schema() })],
        }),
        new asn1js.OctetString({ name: 'mac' }),
        new asn1js.Constructed({
          optional: true,
          idBlock: { tagClass: 3, tagNumber: 2 },
          value: [new asn1js.Repeated({ name: 'unauthAttrs', value: pkijs.Attribute.schema() })],
        }),
      ],
    });
  }

  static fromSchema(schema: asn1js.AsnType): AuthEnvelopedData {
    const asn1 = asn1js.compareSchema(schema, schema, AuthEnvelopedData.schema());
    if (!asn1.verified) throw new AppError('BAD_REQUEST', 'The S/MIME envelope is not a valid CMS AuthEnvelopedData');
    const result = asn1.result as unknown as Record<string, unknown>;
    const out = new AuthEnvelopedData();
    out.version = (result.version as asn1js.Integer).valueBlock.valueDec;
    out.recipientInfos = Array.from(result.recipientInfos as asn1js.AsnType[], (o) => new pkijs.RecipientInfo({ schema: o }));
    out.authEncryptedContentInfo = new pkijs.EncryptedContentInfo({ schema: result.authEncryptedContentInfo });
    if ('authAttrs' in result) out.authAttrs = Array.from(result.authAttrs as asn1js.AsnType[], (o) => new pkijs.Attribute({ schema: o }));
    out.mac = result.mac as asn1js.OctetString;
    return out;
  }

  toSchema(): asn1js.Sequence {
    return new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: this.version }),
        new asn1js.Set({ value: this.recipientInfos.map((r) => r.toSchema()) }),
        this.authEncryptedContentInfo.toSchema(),
        ...(this.authAttrs
          ? [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: this.authAttrs.map((a) => a.toSchema()) })]
          : []),
        this.mac,
      ],
    });
  }

  // The AAD of the content encryption: the DER of authAttrs with an explicit SET OF tag (RFC 5083 §2.2).
  additionalData(): Uint8Array {
    if (!this.authAttrs) return new Uint8Array(0);
    return new Uint8Array(new asn1js.Set({ value: this.authAttrs.map((a) => a.toSchema()) }).toBER(false));
  }
}

// GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 } (RFC 5084 §3.2).
const gcmParametersSchema = () =>
  new asn1js.Sequence({
    value: [new asn1js.OctetString({ name: 'nonce' }), new asn1js.Integer({ name: 'icvLength', optional: true })],
  });

export const NONCE_BYTES = 12;
export const ICV_BYTES = 16;

function readGcmParameters(params: unknown): { nonce: Uint8Array; icvLength: number } {
  const asn1 = asn1js.compareSchema(params as asn1js.AsnType, params as asn1js.AsnType, gcmParametersSchema());
  if (!asn1.verified) throw new AppError('BAD_REQUEST', 'The S/MIME envelope has no valid AES-GCM parameters');
  const nonce = (asn1.result.nonce as asn1js.OctetString).valueBlock.valueHexView;
  const icvLength = asn1.result.icvLength ? (asn1.result.icvLength as asn1js.Integer).valueBlock.valueDec : 12;
  if (nonce.length < 1 || nonce.length > 64)
    throw new AppError('BAD_REQUEST', `The S/MIME envelope's AES-GCM nonce is ${nonce.length} bytes long`);
  if (icvLength < 12 || icvLength > 16)
    throw new AppError('BAD_REQUEST', `The S/MIME envelope's AES-GCM tag length is ${icvLength}: 12 to 16 bytes are allowed`);
  return { nonce, icvLength };
}

// pkijs's recipient code does the key management (RSA-OAEP transport, ECDH agreement and AES key
// wrap) for a content key it creates or unwraps, then encrypts or decrypts the content with that key
// itself, as EnvelopedData does. Given this engine, its AES-GCM content step only hands over the key:
// the content is done here, with a 12-byte nonce, a 16-byte tag and the AAD RFC 5083 asks for.
function keyCapturingEngine() {
  const base = pkijs.getCrypto(true);
  const captured: { key?: CryptoKey } = {};
  const engine = Object.create(base) as pkijs.ICryptoEngine;
  const pass = (name: 'encrypt' | 'decrypt') =>
    (async (algorithm: Algorithm, key: CryptoKey, data: BufferSource) => {
      if (algorithm.name !== 'AES-GCM') return base[name](algorithm, key, data);
      captured.key = key;
      return new ArrayBuffer(0);
    }) as pkijs.ICryptoEngine['encrypt'];
  engine.encrypt = pass('encrypt');
  engine.decrypt = pass('decrypt');
  return { engine, captured };
}

export type AddRecipient = (enveloped: pkijs.EnvelopedData) => void;

export type EncryptAuthEnvelopedOptions = { content: Buffer; addRecipients: AddRecipient };

// AuthEnvelopedData with AES-256-GCM (RFC 5083, RFC 5084): no authAttrs, the tag is the mac.
export async function encryptAuthEnveloped({ content, addRecipients }: EncryptAuthEnvelopedOptions): Promise<AuthEnvelopedData> {
  const keys = new pkijs.EnvelopedData();
  addRecipients(keys);
  const { engine, captured } = keyCapturingEngine();
  await keys.encrypt({ name: 'AES-GCM', length: 256 } as Algorithm, new ArrayBuffer(0), engine);
  if (!captured.key) throw new Error('pkijs did not create an AES-GCM content key');
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = new Uint8Array(
    await crypto.webcrypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, tagLength: ICV_BYTES * 8 }, captured.key, content),
  );
  const out = new AuthEnvelopedData();
  out.recipientInfos = keys.recipientInfos;
  out.authEncryptedContentInfo = new pkijs.EncryptedContentInfo({
    disableSplit: true,
    contentType: OID.data,
    contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID.aes256Gcm,
      algorithmParams: new asn1js.Sequence({
        value: [new asn1js.OctetString({ valueHex: toArrayBuffer(nonce) }), new asn1js.Integer({ value: ICV_BYTES })],
      }),
    }),
    encryptedContent: new asn1js.OctetString({ valueHex: toArrayBuffer(sealed.subarray(0, sealed.length - ICV_BYTES)) }),
  });
  out.mac = new asn1js.OctetString({ valueHex: toArrayBuffer(sealed.subarray(sealed.length - ICV_BYTES)) });
  return out;
}

export type DecryptAuthEnvelopedOptions = {
  auth: AuthEnvelopedData;
  index: number;
  recipientCertificate: pkijs.Certificate;
  recipientPrivateKey: ArrayBuffer;
};

// The content of an AES-GCM AuthEnvelopedData, or a refusal when the tag does not match.
export async function decryptAuthEnveloped({ auth, index, recipientCertificate, recipientPrivateKey }: DecryptAuthEnvelopedOptions) {
  const algorithm = auth.authEncryptedContentInfo.contentEncryptionAlgorithm;
  if (algorithm.algorithmId !== OID.aes256Gcm && algorithm.algorithmId !== OID.aes128Gcm)
    throw new AppError('BAD_REQUEST', `The S/MIME envelope uses content cipher ${algorithm.algorithmId}: only AES-GCM is accepted here`);
  const { nonce, icvLength } = readGcmParameters(algorithm.algorithmParams);
  const mac = auth.mac.valueBlock.valueHexView;
  if (mac.length !== icvLength)
    throw new AppError('BAD_REQUEST', `The S/MIME envelope's tag is ${mac.length} bytes, its parameters say ${icvLength}`);
  if (!auth.authEncryptedContentInfo.encryptedContent) throw new AppError('BAD_REQUEST', 'The S/MIME envelope has no encrypted content');
  // pkijs unwraps the content key for this recipient through an EnvelopedData of the same recipients.
  const keys = new pkijs.EnvelopedData({
    recipientInfos: auth.recipientInfos,
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: algorithm.algorithmId,
        algorithmParams: new asn1js.OctetString({ valueHex: toArrayBuffer(nonce) }),
      }),
      encryptedContent: new asn1js.OctetString(),
    }),
  });
  const { engine, captured } = keyCapturingEngine();
  try {
    await keys.decrypt(index, { recipientCertificate, recipientPrivateKey }, engine);
  } catch (error) {
    throw new AppError('UNPROCESSABLE', `The S/MIME envelope cannot be opened: ${(error as Error).message}`);
  }
  if (!captured.key) throw new Error('pkijs did not unwrap an AES-GCM content key');
  const ciphertext = new Uint8Array(auth.authEncryptedContentInfo.getEncryptedContent());
  const sealed = new Uint8Array(ciphertext.length + mac.length);
  sealed.set(ciphertext);
  sealed.set(mac, ciphertext.length);
  try {
    const plain = await crypto.webcrypto.subtle.decrypt(
      { name: 'AES-GCM', iv: nonce, tagLength: icvLength * 8, additionalData: auth.additionalData() },
      captured.key,
      sealed,
    );
    return Buffer.from(plain);
  } catch {
    throw new AppError('UNPROCESSABLE', 'The S/MIME envelope fails its authentication (AES-GCM tag): it was altered or damaged');
  }
}
