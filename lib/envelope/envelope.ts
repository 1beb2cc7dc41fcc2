import { CompactEncrypt, compactDecrypt } from 'jose';
import { AppError } from '../errors';

export const ENVELOPE_TYP = 'sealpost-envelope+jwe';
// Header fields an envelope may carry; anything else (zip, crit, jku, p2c, epk …) is refused.
const ALLOWED_HEADER_KEYS = new Set(['alg', 'enc', 'typ', 'kid', 'tnt', 'exp']);
const MAX_HEADER_CHARS = 1024;
const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

export type TEnvelopeHeader = { alg: 'dir'; enc: 'A256GCM'; typ: string; kid: string; tnt: string; exp?: number };

// The longest compact token a message of `maxMessageBytes` can produce: base64url of the
// ciphertext plus room for the header, IV and tag.
export const maxEnvelopeChars = (maxMessageBytes: number) => Math.ceil((maxMessageBytes * 4) / 3) + 2048;

// The one error every malformed, forged or unknown envelope gets: no oracle for an attacker.
export const envelopeInvalid = () => new AppError('ENVELOPE_INVALID', 'This message cannot be opened.');

export type SealEnvelopeOptions = {
  mime: Uint8Array;
  messageId: string;
  tenantId: string;
  contentKey: Uint8Array;
  expiresAt?: number | null;
};

export async function sealEnvelope({ mime, messageId, tenantId, contentKey, expiresAt }: SealEnvelopeOptions): Promise<string> {
  const header: TEnvelopeHeader = { alg: 'dir', enc: 'A256GCM', typ: ENVELOPE_TYP, kid: messageId, tnt: tenantId };
  if (expiresAt) header.exp = Math.floor(expiresAt / 1000);
  // No `zip`: compressing secret-bearing content invites size oracles, and decompression bombs.
  return new CompactEncrypt(mime).setProtectedHeader(header).encrypt(contentKey);
}

export type ReadEnvelopeHeaderOptions = { token: unknown; tenantId: string; maxChars: number };

// Validates before anything is parsed: type, size, shape, then a small JSON header against an
// allowlist. The header is not yet authenticated; openEnvelopeWithKey re-checks it after decrypt.
export function readEnvelopeHeader({ token, tenantId, maxChars }: ReadEnvelopeHeaderOptions): TEnvelopeHeader {
  if (typeof token !== 'string' || token.length > maxChars) throw envelopeInvalid();
  const firstDot = token.indexOf('.');
  if (firstDot < 1 || firstDot > MAX_HEADER_CHARS || token[firstDot + 1] !== '.') throw envelopeInvalid();
  const segment = token.slice(0, firstDot);
  if (!B64URL.test(segment)) throw envelopeInvalid();
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw envelopeInvalid();
  }
  if (!isEnvelopeHeader(header) || header.tnt !== tenantId) throw envelopeInvalid();
  return header;
}

function isEnvelopeHeader(h: unknown): h is TEnvelopeHeader {
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return false;
  const r = h as Record<string, unknown>;
  if (!Object.keys(r).every((k) => ALLOWED_HEADER_KEYS.has(k))) return false;
  return (
    r.alg === 'dir' &&
    r.enc === 'A256GCM' &&
    r.typ === ENVELOPE_TYP &&
    typeof r.kid === 'string' &&
    ID_PATTERN.test(r.kid) &&
    typeof r.tnt === 'string' &&
    ID_PATTERN.test(r.tnt) &&
    (r.exp === undefined || (Number.isSafeInteger(r.exp) && (r.exp as number) > 0))
  );
}

export type OpenEnvelopeWithKeyOptions = { token: string; header: TEnvelopeHeader; contentKey: Uint8Array };

export async function openEnvelopeWithKey({ token, header, contentKey }: OpenEnvelopeWithKeyOptions): Promise<Uint8Array> {
  try {
    const { plaintext, protectedHeader } = await compactDecrypt(token, contentKey, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    if (protectedHeader.kid !== header.kid || protectedHeader.tnt !== header.tnt || protectedHeader.exp !== header.exp) {
      throw envelopeInvalid();
    }
    return plaintext;
  } catch {
    // jose's messages name the failing check; none of that reaches a caller.
    throw envelopeInvalid();
  }
}
