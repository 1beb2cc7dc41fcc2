import crypto from 'node:crypto';
import { AppError } from '../errors';

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export type TSmimeSigner = {
  // The signer's certificate first, then the intermediates a verifier may need (DER).
  certificates: Uint8Array[];
  privateKey: CryptoKey;
};

export type ImportSigningKeyOptions = { pkcs8Pem: string; scheme?: 'pkcs1' | 'pss' };

// The WebCrypto key pkijs signs with: RSASSA-PKCS1-v1_5 (or RSA-PSS) or ECDSA, always SHA-256.
export async function importSigningKey({ pkcs8Pem, scheme = 'pkcs1' }: ImportSigningKeyOptions): Promise<CryptoKey> {
  const key = crypto.createPrivateKey(pkcs8Pem);
  if (key.asymmetricKeyType === 'rsa') {
    const name = scheme === 'pss' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5';
    return key.toCryptoKey({ name, hash: 'SHA-256' }, false, ['sign']) as CryptoKey;
  }
  if (key.asymmetricKeyType === 'ec') {
    const namedCurve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!namedCurve)
      throw new AppError('BAD_REQUEST', `The EC key's curve ${key.asymmetricKeyDetails?.namedCurve} is not P-256, P-384 or P-521`);
    return key.toCryptoKey({ name: 'ECDSA', namedCurve }, false, ['sign']) as CryptoKey;
  }
  throw new AppError('BAD_REQUEST', `A ${key.asymmetricKeyType} key cannot sign S/MIME: use an RSA or EC key`);
}
