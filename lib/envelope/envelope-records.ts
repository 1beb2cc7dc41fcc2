import crypto from 'node:crypto';
import { deriveKey } from './aead';

// The envelope's second version: the message sealed as a sequence of records, each its own
// AES-256-GCM message with its own tag (the record framing of RFC 8188's "aes128gcm", on AES-256),
// so a message is decrypted as a stream and no byte of a record is released before that record's
// tag has been checked. Written here on node:crypto: the maintained implementation of RFC 8188
// (http_ece) works on whole buffers only, with AES-128, so it could neither stream nor keep the
// 256-bit content key; the AWS Encryption SDK frames as well but brings its own message format,
// data keys and keyrings around the one content key we already manage.
//
// - The protected header (base64url JSON, as the JWE's) is every record's AAD: kid, tenant,
//   expiry, record size and base nonce are authenticated by each record.
// - Record i: AES-256-GCM(key, nonce = base nonce XOR i, data || delimiter) || tag, where the
//   delimiter is 0x01 on every record but the last and 0x02 on the last (RFC 8188 §2): a
//   truncated envelope ends on a 0x01 record and fails; reordered records fail their nonce.
// - Every record but the last is exactly RECORD_BYTES long (its data RECORD_BYTES - 17); the
//   last is 17 to RECORD_BYTES long (it may hold no data).
// - The key is derived from the content key (HKDF, 'envelope-records'), so the content key is
//   handled as before (wrapped under the tenant key; shredding it destroys every copy).
export const RECORD_BYTES = 64 * 1024;
const TAG_BYTES = 16;
export const RECORD_DATA_BYTES = RECORD_BYTES - TAG_BYTES - 1;
export const NONCE_BYTES = 12;
const MORE = Buffer.from([0x01]);
const LAST = Buffer.from([0x02]);
// 2^32 records of 64 KiB: far beyond any message limit; the counter never wraps.
const MAX_RECORDS = 2 ** 32;

export class EnvelopeRecordError extends Error {}

export const recordKey = (contentKey: Uint8Array) => deriveKey(contentKey, 'envelope-records');

function recordNonce(base: Buffer, seq: number): Buffer {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= MAX_RECORDS) throw new EnvelopeRecordError('record counter out of range');
  const nonce = Buffer.from(base);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
  return nonce;
}

export type TRecordKeys = { key: Buffer; baseNonce: Buffer; aad: Buffer };

// Seals record `seq` into `out` at `at`; returns its length.
function sealRecordInto({ key, baseNonce, aad }: TRecordKeys, seq: number, data: Uint8Array, isLast: boolean, out: Buffer, at: number) {
  if (data.length > RECORD_DATA_BYTES) throw new EnvelopeRecordError('record too long');
  const cipher = crypto.createCipheriv('aes-256-gcm', key, recordNonce(baseNonce, seq), { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  let n = cipher.update(data).copy(out, at);
  n += cipher.update(isLast ? LAST : MORE).copy(out, at + n);
  n += cipher.final().copy(out, at + n);
  n += cipher.getAuthTag().copy(out, at + n);
  return n;
}

// The records of a message in memory, `perChunk` records to each buffer yielded (the store
// writes rows of 16), sealed straight into it. Every record but the last is full; the last
// holds what is left (possibly nothing). With `reuse`, every chunk is a view of one buffer,
// valid only until the next is asked for: the store writes each row before it asks, so sealing
// a 25 MB message leaves no 25 MB of rows behind for the collector.
export function* sealRecords(keys: TRecordKeys, plaintext: Uint8Array, perChunk = 1, reuse = false): Generator<Buffer> {
  const total = Math.floor(Math.max(plaintext.length - 1, 0) / RECORD_DATA_BYTES) + 1;
  if (total > MAX_RECORDS) throw new EnvelopeRecordError('too many records');
  const chunkBytes = (n: number, dataBytes: number) => dataBytes + n * (TAG_BYTES + 1);
  const shared = reuse ? Buffer.allocUnsafe(chunkBytes(perChunk, Math.min(plaintext.length, perChunk * RECORD_DATA_BYTES))) : null;
  for (let first = 0; first < total; first += perChunk) {
    const end = Math.min(first + perChunk, total);
    const size = chunkBytes(end - first, Math.min(end * RECORD_DATA_BYTES, plaintext.length) - first * RECORD_DATA_BYTES);
    const out = shared ? shared.subarray(0, size) : Buffer.allocUnsafe(size);
    let at = 0;
    for (let seq = first; seq < end; seq++) {
      const data = plaintext.subarray(seq * RECORD_DATA_BYTES, Math.min((seq + 1) * RECORD_DATA_BYTES, plaintext.length));
      at += sealRecordInto(keys, seq, data, seq === total - 1, out, at);
    }
    yield out;
  }
}

// The sealed length of a message of `bytes` bytes.
export const sealedLength = (bytes: number) => bytes + (Math.floor(Math.max(bytes - 1, 0) / RECORD_DATA_BYTES) + 1) * (TAG_BYTES + 1);

// Opens one record. Its plaintext is returned only after its tag has verified; a record that
// fails is zeroed and refused.
export function openRecord({ key, baseNonce, aad }: TRecordKeys, seq: number, record: Uint8Array): { data: Buffer; isLast: boolean } {
  if (record.length < 1 + TAG_BYTES || record.length > RECORD_BYTES) throw new EnvelopeRecordError('record length');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, recordNonce(baseNonce, seq), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
  const plain = decipher.update(record.subarray(0, record.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    plain.fill(0);
    throw new EnvelopeRecordError('record failed authentication');
  }
  const delimiter = plain[plain.length - 1];
  const isLast = delimiter === 0x02;
  // No padding: the delimiter is the last byte, and only a last record may be short.
  if ((delimiter !== 0x01 && !isLast) || (!isLast && record.length !== RECORD_BYTES)) {
    plain.fill(0);
    throw new EnvelopeRecordError('record delimiter');
  }
  return { data: plain.subarray(0, plain.length - 1), isLast };
}

// Opens a stream of sealed bytes (cut anywhere) as a stream of plaintext, record by record: each
// record's data is yielded once its tag verifies; a missing last record, anything after it, or
// any record that fails ends the stream with EnvelopeRecordError. At most one record is buffered.
export async function* openRecords(keys: TRecordKeys, sealed: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Buffer> {
  const record = Buffer.allocUnsafe(RECORD_BYTES);
  let filled = 0;
  let seq = 0;
  let isDone = false;
  for await (const chunk of sealed) {
    let at = 0;
    while (at < chunk.length) {
      if (isDone) throw new EnvelopeRecordError('data after the last record');
      const n = Math.min(RECORD_BYTES - filled, chunk.length - at);
      record.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === RECORD_BYTES) {
        const opened = openRecord(keys, seq++, record);
        filled = 0;
        isDone = opened.isLast;
        // The decrypted data is a buffer of its own (the record buffer is reused for the next one).
        if (opened.data.length) yield opened.data;
      }
    }
  }
  if (!isDone) {
    // The last record is short (or the envelope was truncated: then it fails here).
    const opened = openRecord(keys, seq, record.subarray(0, filled));
    if (!opened.isLast) throw new EnvelopeRecordError('the last record is missing');
    if (opened.data.length) yield opened.data;
  }
}

// base64url text of a stream of bytes (no padding), carrying 0-2 bytes between chunks, encoded
// 48 KiB at a time: each string made stays small enough for V8's young generation, collected
// at once, where a string of a whole 1 MiB row would wait in large-object space for a full GC.
const ENCODE_BYTES = 3 * 16 * 1024;
export async function* toBase64url(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Buffer> {
  let carry = Buffer.alloc(0);
  for await (const chunk of source) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // The 1-2 bytes carried over are completed to 3 from this chunk (no copy of the chunk).
    let from = 0;
    if (carry.length) {
      from = Math.min(3 - carry.length, bytes.length);
      carry = Buffer.concat([carry, bytes.subarray(0, from)]);
      if (carry.length < 3) continue;
      yield Buffer.from(carry.toString('base64url'), 'latin1');
    }
    const whole = from + (bytes.length - from) - ((bytes.length - from) % 3);
    for (let at = from; at < whole; at += ENCODE_BYTES)
      yield Buffer.from(bytes.toString('base64url', at, Math.min(at + ENCODE_BYTES, whole)), 'latin1');
    carry = Buffer.from(bytes.subarray(whole));
  }
  if (carry.length) yield Buffer.from(carry.toString('base64url'), 'latin1');
}

const SLICE_CHARS = 4 * 16 * 1024;

// The bytes of base64url text (a string or latin1 bytes), strictly: Node's decoder skips any
// character outside the alphabet (whitespace, '=', non-ASCII), which leaves a slice short and
// refuses the whole envelope. It reads '+' and '/' as '-' and '_': such an alias decodes to the
// very bytes that were sealed, which the records' tags then authenticate.
export function* fromBase64url(text: string | Buffer, from = 0, to = text.length): Generator<Buffer> {
  if ((to - from) % 4 === 1) throw new EnvelopeRecordError('base64url length');
  for (let at = from; at < to; at += SLICE_CHARS) {
    const end = Math.min(at + SLICE_CHARS, to);
    const slice = typeof text === 'string' ? text.slice(at, end) : text.toString('latin1', at, end);
    const bytes = Buffer.from(slice, 'base64url');
    if (bytes.length !== Math.floor(((end - at) * 3) / 4)) throw new EnvelopeRecordError('base64url alphabet');
    yield bytes;
  }
}
