import crypto from 'node:crypto';
import {
  assertFrameHeader,
  decipherFor,
  envelopeInvalid,
  splitCompact,
  startSealing,
  type SealEnvelopeOptions,
  type TEnvelopeFrame,
  type TEnvelopeHeader,
} from './envelope';

export type { TEnvelopeFrame };

// The envelope is one compact JWE (alg dir, enc A256GCM): one IV, one ciphertext, one tag over
// all of it. This module seals and opens it as a stream, so a 150 MB message is never held as
// ciphertext, as base64url text nor (where the reader allows) as plaintext, and the format stays
// the very JWE jose opens: only how the bytes are carried changes.
//
// The frame is the compact token with its ciphertext left out: `<protected>..<iv>..<tag>`. A
// kept message stores its frame (messages.envelope) and its ciphertext in rows of PART_BYTES
// (envelope_parts); message.html still carries the whole token, streamed from both.

// A multiple of 3: each row is whole base64url text of its own (no bytes carried to the next).
export const PART_BYTES = 3 * (1 << 18);
// Base64url text is decoded this many characters at a time (a multiple of 4).
const SLICE_CHARS = 1 << 20;

// An envelope to open or to carry: its frame, and its ciphertext, cut the same way at each reading.
export type TEnvelopeSource = { frame: TEnvelopeFrame; ciphertext(): AsyncIterable<Buffer> };

// A frame as stored (messages.envelope of a message whose ciphertext is in envelope_parts), or
// null for a whole token (a message stored before parts, or any envelope posted or held).
export function readEnvelopeFrame(text: string): TEnvelopeFrame | null {
  const split = splitCompact(text);
  return split && split.ctStart === split.ctEnd ? split.frame : null;
}

// A whole compact token as a source: its ciphertext decoded a slice at a time, strictly. Node's
// decoder skips characters outside the alphabet, so any such character (whitespace, '=',
// non-ASCII) leaves a slice short and is refused; '+' and '/' it reads as '-' and '_', which
// decode to the very bytes sealed, which the tag then authenticates.
export function compactSource(token: string): TEnvelopeSource {
  const split = splitCompact(token);
  if (!split) throw envelopeInvalid();
  const { ctStart, ctEnd } = split;
  return {
    frame: split.frame,
    async *ciphertext() {
      for (let at = ctStart; at < ctEnd; at += SLICE_CHARS) {
        const end = Math.min(at + SLICE_CHARS, ctEnd);
        const expected = Math.floor(((end - at) * 3) / 4);
        const bytes = Buffer.allocUnsafe(expected);
        if (bytes.write(token.slice(at, end), 0, expected, 'base64url') !== expected) throw envelopeInvalid();
        yield bytes;
      }
    },
  };
}

export type SealEnvelopePartsOptions = SealEnvelopeOptions;

export type TSealedParts = {
  // The ciphertext, PART_BYTES at a time: each part is a view of one reused buffer, valid until
  // the next is asked for (the caller writes each before it asks again).
  parts: Generator<Buffer>;
  // The frame, once every part was taken.
  frame(): string;
};

// Seals as sealEnvelope does (the same header, a fresh IV), handing the ciphertext out in parts.
export function sealEnvelopeParts({ mime, ...options }: SealEnvelopePartsOptions): TSealedParts {
  const { protectedSegment, iv, cipher } = startSealing(options);
  let frame: string | null = null;
  return {
    parts: (function* () {
      const part = Buffer.allocUnsafe(Math.min(PART_BYTES, Math.max(mime.length, 1)));
      for (let from = 0; from < mime.length; from += PART_BYTES) {
        const end = Math.min(from + PART_BYTES, mime.length);
        // AES-GCM's update returns as many bytes as it is given.
        const length = cipher.update(mime.subarray(from, end)).copy(part, 0);
        yield part.subarray(0, length);
      }
      cipher.final();
      frame = `${protectedSegment}..${iv.toString('base64url')}..${cipher.getAuthTag().toString('base64url')}`;
    })(),
    frame() {
      if (!frame) throw new Error('the envelope is not sealed yet');
      return frame;
    },
  };
}

export type OpenEnvelopeStreamOptions = { source: TEnvelopeSource; header: TEnvelopeHeader; contentKey: Uint8Array };

// The plaintext as it is decrypted, BEFORE the tag is checked: the stream ends with the one
// generic error if the tag fails. Only for a reader that keeps nothing of what it read unless
// the stream ends without error (the message view: parsed as it streams, stored only after).
export async function* decryptEnvelopeStream({ source, header, contentKey }: OpenEnvelopeStreamOptions): AsyncGenerator<Buffer> {
  assertFrameHeader(source.frame, header);
  const decipher = decipherFor(source.frame, contentKey);
  for await (const piece of source.ciphertext()) yield decipher.update(piece);
  try {
    decipher.final();
  } catch {
    throw envelopeInvalid();
  }
}

// The plaintext, each piece authentic when it is handed out: the tag is checked in a first
// pass that keeps nothing but a keyed hash of each ciphertext piece; the second pass decrypts
// a piece only if it is the very piece the first pass authenticated. What a client receives
// (an attachment download of 150 MB) is never unauthenticated, and never held whole.
export async function* releaseEnvelopeStream({ source, header, contentKey }: OpenEnvelopeStreamOptions): AsyncGenerator<Buffer> {
  assertFrameHeader(source.frame, header);
  const hashKey = crypto.randomBytes(32);
  const digests: Buffer[] = [];
  const checking = decipherFor(source.frame, contentKey);
  for await (const piece of source.ciphertext()) {
    digests.push(crypto.createHmac('sha256', hashKey).update(piece).digest());
    checking.update(piece).fill(0);
  }
  try {
    checking.final();
  } catch {
    throw envelopeInvalid();
  }
  const decipher = decipherFor(source.frame, contentKey);
  let index = 0;
  for await (const piece of source.ciphertext()) {
    const expected = digests[index++];
    const digest = crypto.createHmac('sha256', hashKey).update(piece).digest();
    if (!expected || !crypto.timingSafeEqual(expected, digest)) throw envelopeInvalid();
    yield decipher.update(piece);
  }
  if (index !== digests.length) throw envelopeInvalid();
  try {
    decipher.final();
  } catch {
    throw envelopeInvalid();
  }
}

// The whole plaintext, once its tag verified (replies and forwards quote or carry it whole).
export const openEnvelopeWhole = (options: OpenEnvelopeStreamOptions) => joinVerified(decryptEnvelopeStream(options));

// A decrypt stream's pieces joined once it ended well; nothing that failed is left in memory.
export async function joinVerified(plaintext: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  try {
    for await (const piece of plaintext) pieces.push(piece);
  } catch (error) {
    for (const piece of pieces) piece.fill(0);
    throw error;
  }
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

// Base64url text is made this many bytes at a time (a multiple of 3).
const ENCODE_BYTES = 3 * (1 << 14);

// The whole compact token as text, a piece at a time: what message.html carries (its base64
// encoder reads each piece through one reused buffer, lib/mail/base64-lines.ts).
export async function* envelopeTextPieces(source: TEnvelopeSource): AsyncGenerator<string> {
  const { frame } = source;
  const ivEnd = frame.text.indexOf('.', frame.protectedSegment.length + 2);
  yield frame.text.slice(0, ivEnd + 1);
  let carry = Buffer.alloc(0);
  for await (const chunk of source.ciphertext()) {
    let bytes = chunk;
    if (carry.length) {
      bytes = Buffer.concat([carry, chunk]);
      carry = Buffer.alloc(0);
    }
    const whole = bytes.length - (bytes.length % 3);
    for (let at = 0; at < whole; at += ENCODE_BYTES) yield bytes.toString('base64url', at, Math.min(at + ENCODE_BYTES, whole));
    if (whole < bytes.length) carry = Buffer.from(bytes.subarray(whole));
  }
  if (carry.length) yield carry.toString('base64url');
  yield frame.text.slice(ivEnd + 1);
}

// The whole compact token as a string (a reply's envelope, a test's).
export async function envelopeString(source: TEnvelopeSource): Promise<string> {
  const pieces: string[] = [];
  for await (const piece of envelopeTextPieces(source)) pieces.push(piece);
  return pieces.join('');
}
