import crypto from 'node:crypto';
import { AppError } from '../errors';
import {
  EnvelopeRecordError,
  NONCE_BYTES,
  openRecords,
  RECORD_BYTES,
  recordKey,
  sealedLength,
  sealRecords,
  toBase64url,
  fromBase64url,
  type TRecordKeys,
} from './envelope-records';

// Version 1: one compact JWE (RFC 7516), one AES-GCM tag over the whole message. Still opened;
// no longer written.
export const ENVELOPE_TYP = 'sealpost-envelope+jwe';
// Version 2: `<protected header>.<records>`, the message sealed in records of 64 KiB, each with
// its own tag (lib/envelope/envelope-records.ts), so it opens as a stream. Written since 0022.
export const RECORDS_TYP = 'sealpost-envelope+records';
// Header fields an envelope may carry; anything else (zip, crit, jku, p2c, epk …) is refused.
const ALLOWED_HEADER_KEYS = new Set(['alg', 'enc', 'typ', 'kid', 'tnt', 'exp']);
const ALLOWED_RECORDS_HEADER_KEYS = new Set([...ALLOWED_HEADER_KEYS, 'rs', 'n']);
const MAX_HEADER_CHARS = 1024;
const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

// rs: the record size; n: the base nonce (base64url of 12 bytes). Both only in version 2.
export type TEnvelopeHeader = { alg: 'dir'; enc: 'A256GCM'; typ: string; kid: string; tnt: string; exp?: number; rs?: number; n?: string };

// The longest token a message of `maxMessageBytes` can produce: base64url of the ciphertext
// (with each record's delimiter and tag) plus room for the header, IV and tag.
export const maxEnvelopeChars = (maxMessageBytes: number) => Math.ceil((sealedLength(maxMessageBytes) * 4) / 3) + 2048;

// The one error every malformed, forged or unknown envelope gets: no oracle for an attacker.
export const envelopeInvalid = () => new AppError('ENVELOPE_INVALID', 'This message cannot be opened.');

const IV_CHARS = 16; // 12 bytes
const TAG_CHARS = 22; // 16 bytes
const SEAL_SLICE_BYTES = 3 * (1 << 14);

export type SealEnvelopeOptions = {
  mime: Uint8Array;
  messageId: string;
  tenantId: string;
  contentKey: Uint8Array;
  expiresAt?: number | null;
};

// Version 1, kept to show that old envelopes still open (tests, bench/envelope).
// Produces a compact JWE that jose (and any RFC 7516 implementation) opens; the tests check it
// with jose's compactDecrypt. Written on node:crypto for the reason given at openEnvelopeWithKey:
// jose's JavaScript base64url made sealing a 25 MB message take 0.6 s and 11x its size in memory.
export async function sealCompactEnvelope({ mime, messageId, tenantId, contentKey, expiresAt }: SealEnvelopeOptions): Promise<string> {
  const header: TEnvelopeHeader = { alg: 'dir', enc: 'A256GCM', typ: ENVELOPE_TYP, kid: messageId, tnt: tenantId };
  if (expiresAt) header.exp = Math.floor(expiresAt / 1000);
  // No `zip`: compressing secret-bearing content invites size oracles, and decompression bombs.
  const protectedSegment = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', contentKey, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(protectedSegment, 'latin1'));
  // The token is written into one buffer, a slice of ciphertext at a time, and made a string once:
  // sealing a 25 MB message holds the message, that buffer and the string, never the whole
  // ciphertext nor its base64url text as well (GCM's ciphertext is as long as its plaintext, and
  // a multiple of 3 bytes encodes without padding, so the slices join into one base64url run).
  const head = `${protectedSegment}..${iv.toString('base64url')}.`;
  const token = Buffer.allocUnsafe(head.length + Math.ceil((mime.length * 4) / 3) + 1 + TAG_CHARS);
  let at = token.write(head, 0, 'latin1');
  for (let from = 0; from < mime.length; from += SEAL_SLICE_BYTES) {
    at += token.write(cipher.update(mime.subarray(from, from + SEAL_SLICE_BYTES)).toString('base64url'), at, 'latin1');
  }
  cipher.final();
  at += token.write(`.${cipher.getAuthTag().toString('base64url')}`, at, 'latin1');
  if (at !== token.length) throw new Error('envelope length mismatch');
  return token.toString('latin1');
}

export type TEnvelopeSealer = { head: string; header: TEnvelopeHeader; keys: TRecordKeys };

export type PrepareEnvelopeOptions = Omit<SealEnvelopeOptions, 'mime'>;

// A version 2 envelope about to be written: its protected header (the token up to its dot) and
// the keys its records are sealed with (derived from the content key, which the caller may then zero).
export function prepareEnvelope({ messageId, tenantId, contentKey, expiresAt }: PrepareEnvelopeOptions): TEnvelopeSealer {
  const baseNonce = crypto.randomBytes(NONCE_BYTES);
  const header: TEnvelopeHeader = { alg: 'dir', enc: 'A256GCM', typ: RECORDS_TYP, kid: messageId, tnt: tenantId };
  if (expiresAt) header.exp = Math.floor(expiresAt / 1000);
  header.rs = RECORD_BYTES;
  header.n = baseNonce.toString('base64url');
  const head = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
  return { head, header, keys: { key: recordKey(contentKey), baseNonce, aad: Buffer.from(head, 'latin1') } };
}

// A whole version 2 token in memory, for the few that carry it as text (message.html of an
// attachment-only message, `sealpost encrypt`): `<head>.<base64url of the records>`.
export async function envelopeText(sealer: TEnvelopeSealer, mime: Uint8Array): Promise<string> {
  const token = Buffer.allocUnsafe(sealer.head.length + 1 + Math.ceil((sealedLength(mime.length) * 4) / 3));
  let at = token.write(`${sealer.head}.`, 0, 'latin1');
  for await (const text of toBase64url(sealRecords(sealer.keys, mime, 16))) at += text.copy(token, at);
  if (at !== token.length) throw new Error('envelope length mismatch');
  return token.toString('latin1');
}

// Seals a message as a version 2 token, whole, in memory.
export const sealEnvelope = ({ mime, ...options }: SealEnvelopeOptions) => envelopeText(prepareEnvelope(options), mime);

export type ReadEnvelopeHeaderOptions = { token: unknown; tenantId: string; maxChars: number };

// Validates before anything is parsed: type, size, shape, then a small JSON header against an
// allowlist. The header is not yet authenticated; openEnvelopeWithKey re-checks it after decrypt.
export function readEnvelopeHeader({ token, tenantId, maxChars }: ReadEnvelopeHeaderOptions): TEnvelopeHeader {
  if (typeof token !== 'string' || token.length > maxChars) throw envelopeInvalid();
  const firstDot = token.indexOf('.');
  if (firstDot < 1 || firstDot > MAX_HEADER_CHARS) throw envelopeInvalid();
  const segment = token.slice(0, firstDot);
  if (!B64URL.test(segment)) throw envelopeInvalid();
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw envelopeInvalid();
  }
  if (!isEnvelopeHeader(header) || header.tnt !== tenantId) throw envelopeInvalid();
  // Version 1 is `<header>..<iv>.<ciphertext>.<tag>` (no encrypted key); version 2 `<header>.<records>`.
  const isShapeValid = header.typ === ENVELOPE_TYP ? token[firstDot + 1] === '.' : token.indexOf('.', firstDot + 1) < 0;
  if (!isShapeValid) throw envelopeInvalid();
  return header;
}

export const isRecordsEnvelope = (header: TEnvelopeHeader) => header.typ === RECORDS_TYP;

// The record keys of a version 2 envelope. The header is read again from the token itself (it is
// what every record authenticates) and must be the one the caller looked the message up by.
export function recordKeysOf(token: string, header: TEnvelopeHeader, contentKey: Uint8Array): TRecordKeys {
  const authentic = readEnvelopeHeader({ token, tenantId: header.tnt, maxChars: token.length });
  const isSame = authentic.kid === header.kid && authentic.exp === header.exp && isRecordsEnvelope(authentic);
  if (!isSame || contentKey.length !== 32 || !authentic.n) throw envelopeInvalid();
  const head = token.slice(0, token.indexOf('.'));
  return { key: recordKey(contentKey), baseNonce: Buffer.from(authentic.n, 'base64url'), aad: Buffer.from(head, 'latin1') };
}

// The plaintext of a version 2 envelope, a verified record at a time, from the records in the
// token or (a token that is only its header, as the server stores it) from `stored`. Every
// failure is the one generic error; nothing of a record that failed is released.
export async function* openEnvelopeRecords({
  token,
  header,
  contentKey,
  stored,
}: OpenEnvelopeWithKeyOptions & { stored?: () => AsyncIterable<Uint8Array> }): AsyncGenerator<Buffer> {
  const keys = recordKeysOf(token, header, contentKey);
  const bodyStart = token.indexOf('.') + 1;
  const source = bodyStart < token.length ? fromBase64url(token, bodyStart) : stored?.();
  if (!source) throw envelopeInvalid();
  try {
    yield* openRecords(keys, source);
  } catch (error) {
    throw error instanceof EnvelopeRecordError ? envelopeInvalid() : error;
  }
}

function isEnvelopeHeader(h: unknown): h is TEnvelopeHeader {
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return false;
  const r = h as Record<string, unknown>;
  const isRecords = r.typ === RECORDS_TYP;
  if (!Object.keys(r).every((k) => (isRecords ? ALLOWED_RECORDS_HEADER_KEYS : ALLOWED_HEADER_KEYS).has(k))) return false;
  // Version 2 names its record size (the one size there is) and a 12-byte base nonce.
  if (isRecords && (r.rs !== RECORD_BYTES || typeof r.n !== 'string' || !/^[A-Za-z0-9_-]{16}$/.test(r.n))) return false;
  return (
    r.alg === 'dir' &&
    r.enc === 'A256GCM' &&
    (r.typ === ENVELOPE_TYP || isRecords) &&
    typeof r.kid === 'string' &&
    ID_PATTERN.test(r.kid) &&
    typeof r.tnt === 'string' &&
    ID_PATTERN.test(r.tnt) &&
    (r.exp === undefined || (Number.isSafeInteger(r.exp) && (r.exp as number) > 0))
  );
}

export type OpenEnvelopeWithKeyOptions = { token: string; header: TEnvelopeHeader; contentKey: Uint8Array };

// The ciphertext is decoded and decrypted slice by slice through one small reused buffer, so
// opening holds the token and the plaintext, never a second full-size copy of the ciphertext.
const SLICE_CHARS = 1 << 20;

// Decrypts our exact profile (compact JWE, `dir`, `A256GCM`) with node:crypto; the tests check it
// agrees with jose's compactDecrypt at every size. Not jose itself: jose 6 on Node 24 decodes base64url
// in JavaScript (Uint8Array.fromBase64 is not there yet): a 25 MB envelope opened at 4% of raw
// AES-GCM speed and peaked at 11x its size (bench/envelope). RFC 7516 §5.2: the AAD is the ASCII
// protected header segment, the key is the content key itself.
export async function openEnvelopeWithKey({ token, header, contentKey }: OpenEnvelopeWithKeyOptions): Promise<Uint8Array> {
  if (isRecordsEnvelope(header)) {
    const parts: Buffer[] = [];
    for await (const part of openEnvelopeRecords({ token, header, contentKey })) parts.push(part);
    return Buffer.concat(parts);
  }
  const d1 = token.indexOf('.');
  const d3 = token.indexOf('.', d1 + 2);
  const d4 = token.indexOf('.', d3 + 1);
  const isShapeValid =
    d1 > 0 &&
    token[d1 + 1] === '.' &&
    d3 === d1 + 2 + IV_CHARS &&
    d4 > d3 &&
    token.lastIndexOf('.') === d4 &&
    token.length - d4 - 1 === TAG_CHARS;
  if (!isShapeValid || contentKey.length !== 32) throw envelopeInvalid();
  const protectedSegment = token.slice(0, d1);
  const authentic = readEnvelopeHeader({ token, tenantId: header.tnt, maxChars: token.length });
  if (authentic.kid !== header.kid || authentic.exp !== header.exp) throw envelopeInvalid();
  const iv = decodeStrict(token.slice(d1 + 2, d3));
  const tag = decodeStrict(token.slice(d4 + 1));
  if (iv?.length !== 12 || !tag || tag.length !== 16) throw envelopeInvalid();

  const ctStart = d3 + 1;
  const ctChars = d4 - ctStart;
  if (ctChars % 4 === 1) throw envelopeInvalid();
  const plaintext = Buffer.allocUnsafe(Math.floor((ctChars * 3) / 4));
  const slice = Buffer.allocUnsafe(Math.floor((Math.min(SLICE_CHARS, ctChars) * 3) / 4));
  let written = 0;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', contentKey, iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(protectedSegment, 'latin1'));
    decipher.setAuthTag(tag);
    for (let at = ctStart; at < d4; at += SLICE_CHARS) {
      const end = Math.min(at + SLICE_CHARS, d4);
      // Node's decoder skips characters outside the alphabet, so any such character (whitespace,
      // '=', non-ASCII) leaves a slice short. It does read '+' and '/' as '-' and '_': such an
      // alias decodes to the very bytes that were sealed, which the tag then authenticates.
      const expected = Math.floor(((end - at) * 3) / 4);
      if (slice.write(token.slice(at, end), 0, expected, 'base64url') !== expected) throw envelopeInvalid();
      written += decipher.update(slice.subarray(0, expected)).copy(plaintext, written);
    }
    written += decipher.final().copy(plaintext, written);
  } catch {
    // Never hand out (or leave in memory) bytes that failed authentication.
    plaintext.fill(0);
    throw envelopeInvalid();
  }
  if (written !== plaintext.length) throw envelopeInvalid();
  return plaintext;
}

// The IV and tag are short: strict base64url (Node's decoder alone would accept + / and skip =).
function decodeStrict(text: string): Buffer | null {
  if (text.length % 4 === 1 || text.includes('+') || text.includes('/') || text.includes('=')) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === Math.floor((text.length * 3) / 4) ? bytes : null;
}
