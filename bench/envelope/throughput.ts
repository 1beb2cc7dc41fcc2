import crypto from 'node:crypto';
import { maxEnvelopeChars, openEnvelopeWithKey, readEnvelopeHeader, sealCompactEnvelope, sealEnvelope } from '../../lib/envelope/envelope';
import { type BenchContext, MiB, makeMime, requireGc } from './fixtures';

// seal/open: the envelope written today (version 2, records of 64 KiB, each with its tag);
// sealV1/openV1: version 1 (one compact JWE), still opened for messages sent before.
export type OpName = 'rawEncrypt' | 'rawDecrypt' | 'seal' | 'open' | 'sealV1' | 'openV1';
export const OP_NAMES: readonly OpName[] = ['rawEncrypt', 'rawDecrypt', 'seal', 'open', 'sealV1', 'openV1'];

export type ThroughputResult = {
  bytes: number;
  rounds: number;
  batch: Record<OpName, number>;
  mibPerSec: Record<OpName, number>;
  sealVsRawEncrypt: number;
  openVsRawDecrypt: number;
};

type Op = () => unknown;

// The baseline is the platform primitive on the same bytes: what the envelope would cost with
// no JOSE framing at all (a fresh IV per message, as jose does).
function rawEncrypt(key: Buffer, plaintext: Uint8Array) {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

function rawDecrypt(key: Buffer, { iv, ciphertext, tag }: ReturnType<typeof rawEncrypt>) {
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext);
  decipher.final();
  return plaintext;
}

// Runs `n` operations back to back; only async ops pay for an await.
async function runBatch(op: Op, n: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const r = op();
    if (r instanceof Promise) await r;
  }
  return performance.now() - start;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export type ThroughputOptions = { bytes: number; ctx: BenchContext; rounds: number; batchMs: number; warmupMs: number };

export async function measureThroughput({ bytes, ctx, rounds, batchMs, warmupMs }: ThroughputOptions): Promise<ThroughputResult> {
  const gc = requireGc();
  const { contentKey, messageId, tenantId } = ctx;
  const mime = makeMime(bytes);
  const maxChars = maxEnvelopeChars(bytes);

  // Inputs for the decrypt side are made once, so decrypt timings exclude encryption.
  const rawSealed = rawEncrypt(contentKey, mime);
  const token = await sealEnvelope({ mime, messageId, tenantId, contentKey });
  const tokenV1 = await sealCompactEnvelope({ mime, messageId, tenantId, contentKey });

  const ops: Record<OpName, Op> = {
    rawEncrypt: () => rawEncrypt(contentKey, mime),
    rawDecrypt: () => rawDecrypt(contentKey, rawSealed),
    seal: () => sealEnvelope({ mime, messageId, tenantId, contentKey }),
    open: () => openEnvelopeWithKey({ token, header: readEnvelopeHeader({ token, tenantId, maxChars }), contentKey }),
    sealV1: () => sealCompactEnvelope({ mime, messageId, tenantId, contentKey }),
    openV1: () => openEnvelopeWithKey({ token: tokenV1, header: readEnvelopeHeader({ token: tokenV1, tenantId, maxChars }), contentKey }),
  };

  // A benchmark of a broken round trip is worthless: check both paths once, untimed.
  if (!rawDecrypt(contentKey, rawSealed).equals(mime)) throw new Error('raw AES-GCM round trip failed');
  if (!Buffer.from((await ops.open()) as Uint8Array).equals(mime)) throw new Error('envelope round trip failed');
  if (!Buffer.from((await ops.openV1()) as Uint8Array).equals(mime)) throw new Error('version 1 round trip failed');

  // Warm-up doubles as calibration: each timed batch should last about `batchMs`, so that
  // 50 KiB ops are not dominated by timer resolution and 25 MiB ops run once per batch.
  const batch = {} as Record<OpName, number>;
  for (const name of OP_NAMES) {
    let n = 0;
    let elapsed = 0;
    do {
      elapsed += await runBatch(ops[name], 1);
      n++;
    } while (elapsed < warmupMs || n < 2);
    batch[name] = Math.max(1, Math.round(batchMs / (elapsed / n)));
  }

  // Ops are interleaved round by round so slow drift (thermal, neighbours) hits all of them
  // alike; the median round discards outliers. A gc before each batch keeps one op's garbage
  // from being collected on another op's clock.
  const samples = Object.fromEntries(OP_NAMES.map((n) => [n, [] as number[]])) as Record<OpName, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (const name of OP_NAMES) {
      gc();
      const ms = await runBatch(ops[name], batch[name]);
      samples[name].push(ms / batch[name]);
    }
  }

  const mibPerSec = Object.fromEntries(OP_NAMES.map((n) => [n, bytes / MiB / (median(samples[n]) / 1000)])) as Record<OpName, number>;
  return {
    bytes,
    rounds,
    batch,
    mibPerSec,
    sealVsRawEncrypt: mibPerSec.seal / mibPerSec.rawEncrypt,
    openVsRawDecrypt: mibPerSec.open / mibPerSec.rawDecrypt,
  };
}
