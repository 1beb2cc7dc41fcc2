import crypto from 'node:crypto';

export const KiB = 1024;
export const MiB = 1024 * KiB;

export const SIZES = [
  { label: '50 KiB', bytes: 50 * KiB },
  { label: '25 MiB', bytes: 25 * MiB },
] as const;

export type BenchContext = { contentKey: Buffer; messageId: string; tenantId: string };

export const newContext = (): BenchContext => ({
  contentKey: crypto.randomBytes(32),
  messageId: crypto.randomUUID(),
  tenantId: crypto.randomUUID(),
});

// A MIME-shaped message of exactly `bytes` bytes: headers, then a base64 "attachment" of random
// data. Content does not change AES-GCM cost, but the shape keeps the fixture honest.
export function makeMime(bytes: number): Buffer {
  const head = Buffer.from(
    [
      'From: Alice <alice@example.org>',
      'To: Bob <bob@example.org>',
      'Subject: Quarterly report',
      'MIME-Version: 1.0',
      'Content-Type: application/pdf; name="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      '',
    ].join('\r\n'),
  );
  const body = Buffer.from(
    crypto
      .randomBytes(Math.ceil((bytes * 3) / 4))
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n'),
  );
  const mime = Buffer.concat([head, body]).subarray(0, bytes);
  if (mime.length !== bytes) throw new Error(`fixture is ${mime.length} bytes, wanted ${bytes}`);
  return mime;
}

export const formatBytes = (n: number) => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${(n / KiB).toFixed(1)} KiB`);

export function requireGc(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') throw new Error('run with --expose-gc (npm run bench)');
  return gc;
}
