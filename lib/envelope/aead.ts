import crypto from 'node:crypto';

// Key wrapping and at-rest sealing with node:crypto's AES-256-GCM. jose has no AAD in compact
// form, and the AAD is what binds a wrapped key to its row (a key copied to another message or
// tenant fails to open), so these few lines stay on the platform primitive.
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

// plaintext: the bytes, or several parts sealed as their concatenation (no joined copy is made).
export type SealBytesOptions = { key: Uint8Array; plaintext: Uint8Array | readonly Uint8Array[]; aad: string };
export type OpenBytesOptions = { key: Uint8Array; sealed: Uint8Array; aad: string };

export function sealBytes({ key, plaintext, aad }: SealBytesOptions): Buffer {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const parts = plaintext instanceof Uint8Array ? [plaintext] : plaintext;
  // Each part's ciphertext is written once into the result (a 50 KB relayed mail was copied three times).
  const out = Buffer.allocUnsafe(1 + IV_BYTES + parts.reduce((n, p) => n + p.length, 0) + TAG_BYTES);
  out[0] = VERSION;
  let at = 1 + iv.copy(out, 1);
  for (const part of parts) at += cipher.update(part).copy(out, at);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

export function openBytes({ key, sealed, aad }: OpenBytesOptions): Buffer {
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (buf.length < 1 + IV_BYTES + TAG_BYTES || buf[0] !== VERSION) throw new Error('sealed data is malformed');
  const iv = buf.subarray(1, 1 + IV_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
}

// A subkey for one purpose, so one tenant key never encrypts two kinds of data directly.
export function deriveKey(key: Uint8Array, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), `sealpost/${purpose}`, 32));
}
