import { AppError } from '../errors';
import { asn1js, pkijs, toArrayBuffer } from './cms';

const KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const MAX_P12_BYTES = 1024 * 1024;

export type TPkcs12Contents = { pkcs8Pem: string; certificates: Uint8Array[] };

export type ReadPkcs12Options = { p12: Uint8Array; password: string };

// The private key and the certificates of a PKCS#12 file (what OpenSSL, Windows and macOS export:
// PBES2 with PBKDF2 and AES, or the older PKCS#12 PBE), its MAC checked with the password. pkijs
// does the parsing and the decryption.
export async function readPkcs12({ p12, password }: ReadPkcs12Options): Promise<TPkcs12Contents> {
  if (p12.length > MAX_P12_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', 'The PKCS#12 file is larger than 1 MB');
  const parsed = asn1js.fromBER(toArrayBuffer(p12), { maxDepth: 64, maxNodes: 20_000 });
  if (parsed.offset === -1) throw new AppError('BAD_REQUEST', 'The file is not a PKCS#12 (.p12/.pfx) file');
  const pass = toArrayBuffer(Buffer.from(password, 'utf8'));
  let pfx: pkijs.PFX;
  try {
    pfx = new pkijs.PFX({ schema: parsed.result });
  } catch {
    throw new AppError('BAD_REQUEST', 'The file is not a PKCS#12 (.p12/.pfx) file');
  }
  try {
    await pfx.parseInternalValues({ password: pass, checkIntegrity: true });
  } catch {
    throw new AppError('UNPROCESSABLE', 'The PKCS#12 file cannot be opened: wrong password, or its integrity check failed');
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw new AppError('BAD_REQUEST', 'The PKCS#12 file holds no authenticated safe');
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pass })) });
  } catch {
    throw new AppError('UNPROCESSABLE', 'The PKCS#12 file cannot be opened: wrong password, or an unsupported encryption');
  }
  let pkcs8: ArrayBuffer | null = null;
  const certificates: Uint8Array[] = [];
  for (const contents of safe.parsedValue?.safeContents ?? []) {
    for (const bag of contents.value.safeBags) {
      if (bag.bagId === SHROUDED_KEY_BAG) {
        const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
        // pkijs marks the bag's own parseInternalValues protected; it is the documented way in.
        const open = shrouded as unknown as { parseInternalValues(o: { password: ArrayBuffer }): Promise<void> };
        try {
          if (!shrouded.parsedValue) await open.parseInternalValues({ password: pass });
        } catch {
          throw new AppError('UNPROCESSABLE', "The PKCS#12 file's private key cannot be decrypted with this password");
        }
        pkcs8 = shrouded.parsedValue?.toSchema().toBER(false) ?? null;
      } else if (bag.bagId === KEY_BAG) {
        pkcs8 = (bag.bagValue as pkijs.PrivateKeyInfo).toSchema().toBER(false);
      } else if (bag.bagId === CERT_BAG) {
        const value = (bag.bagValue as pkijs.CertBag).parsedValue;
        if (value instanceof pkijs.Certificate) certificates.push(new Uint8Array(value.toSchema().toBER(false)));
      }
    }
  }
  if (!pkcs8) throw new AppError('UNPROCESSABLE', 'The PKCS#12 file holds no private key');
  if (!certificates.length) throw new AppError('UNPROCESSABLE', 'The PKCS#12 file holds no certificate');
  const body = Buffer.from(pkcs8).toString('base64').replace(/.{64}/g, '$&\n');
  return { pkcs8Pem: `-----BEGIN PRIVATE KEY-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END PRIVATE KEY-----\n`, certificates };
}
