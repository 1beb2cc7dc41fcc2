import crypto from 'node:crypto';
import * as pkijs from 'pkijs';
import { AppError } from '../errors';

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export type TSmimeSigner = {
  // The signer's certificate first, then the intermediates a verifier may need (DER).
  certificates: Uint8Array[];
  privateKey: CryptoKey;
};

export const SIGNATURE_SCHEMES = ['pkcs1', 'pss'] as const;
export type TSignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export type ImportSigningKeyOptions = { pkcs8Pem: string; scheme?: TSignatureScheme };

// The WebCrypto key pkijs signs with: RSASSA-PKCS1-v1_5 (or RSA-PSS) or ECDSA, always SHA-256.
// An RSA-PSS key (id-RSASSA-PSS in its certificate) can only sign with PSS.
export async function importSigningKey({ pkcs8Pem, scheme = 'pkcs1' }: ImportSigningKeyOptions): Promise<CryptoKey> {
  const key = crypto.createPrivateKey(pkcs8Pem);
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const isPss = scheme === 'pss' || key.asymmetricKeyType === 'rsa-pss';
    // WebCrypto takes an RSA-PSS key as plain RSA: the key's own restrictions (SHA-256 here) are
    // checked when it is imported.
    const rsa = key.asymmetricKeyType === 'rsa-pss' ? rsaPssAsRsa(key) : key;
    return rsa.toCryptoKey({ name: isPss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']) as CryptoKey;
  }
  if (key.asymmetricKeyType === 'ec') {
    const namedCurve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!namedCurve)
      throw new AppError('BAD_REQUEST', `The EC key's curve ${key.asymmetricKeyDetails?.namedCurve} is not P-256, P-384 or P-521`);
    return key.toCryptoKey({ name: 'ECDSA', namedCurve }, false, ['sign']) as CryptoKey;
  }
  throw new AppError('BAD_REQUEST', `A ${key.asymmetricKeyType} key cannot sign S/MIME: use an RSA or EC key`);
}

// An id-RSASSA-PSS key as an rsaEncryption key with the same numbers (WebCrypto imports only the
// latter; Node exports such a key neither as JWK nor as PKCS#1): the RSAPrivateKey inside its
// PKCS#8 wrapping, read by pkijs. The key's restrictions are checked on its certificate, at import
// (checkPssRestrictions): that is what a verifier holds the signature to.
function rsaPssAsRsa(key: crypto.KeyObject): crypto.KeyObject {
  const info = pkijs.PrivateKeyInfo.fromBER(key.export({ type: 'pkcs8', format: 'der' }));
  return crypto.createPrivateKey({ key: Buffer.from(info.privateKey.valueBlock.valueHexView), type: 'pkcs1', format: 'der' });
}

// A certificate for an RSA-PSS key may restrict its digests; Sealpost signs with SHA-256 and MGF1
// with SHA-256, so any other restriction is refused by name rather than failing at the recipient.
export function checkPssRestrictions(certificate: Uint8Array) {
  const details = new crypto.X509Certificate(certificate).publicKey.asymmetricKeyDetails;
  for (const [what, hash] of [
    ['digest', details?.hashAlgorithm],
    ['MGF1 digest', details?.mgf1HashAlgorithm],
  ] as const) {
    if (hash && hash !== 'sha256')
      throw new AppError(
        'BAD_REQUEST',
        `The certificate's RSA-PSS key is restricted to ${hash} as its ${what}; Sealpost signs with SHA-256 throughout`,
      );
  }
}
