import { Readable } from 'node:stream';

// A mail on its way out: built in memory (passcodes, notices, relayed mail), or composed anew
// each time it is read, so a wrapper's message.html (the whole envelope) is streamed into the
// SMTP session rather than held as a built mail. DKIM reads a composed mail once to hash it and
// the transport once more to send it (and again for each hop or retry): a mail composed anew is
// the same bytes each time (fixed Date, Message-ID and MIME boundaries).
export type TComposedMail = { open(): Readable };
export type TMailSource = Buffer | TComposedMail;

// What nodemailer sends as `raw`: the Buffer, or a fresh stream of the composed mail.
export const openMailSource = (source: TMailSource): Readable | Buffer => (Buffer.isBuffer(source) ? source : source.open());

export type ReadMailHeadOptions = { source: TMailSource; maxBytes?: number };

// The header block (up to the blank line, at most maxBytes) without reading the rest: a composed
// mail's stream is stopped as soon as the header has been seen.
export async function readMailHead({ source, maxBytes = 64 * 1024 }: ReadMailHeadOptions): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return headOf(source, maxBytes);
  const stream = source.open();
  let seen = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      seen = Buffer.concat([seen, chunk as Buffer]);
      if (seen.length >= maxBytes || seen.includes('\r\n\r\n')) break;
    }
  } finally {
    stream.destroy();
  }
  return headOf(seen, maxBytes);
}

function headOf(raw: Buffer, maxBytes: number): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end < 0 ? Math.min(raw.length, maxBytes) : end);
}

// A composed mail with lines put before it (DKIM-Signature fields), as a fresh stream each time.
export const prependToMail = (mail: TComposedMail, head: Buffer): TComposedMail => ({
  open: () =>
    Readable.from(
      (async function* () {
        yield head;
        yield* mail.open();
      })(),
      { objectMode: false },
    ),
});

// The whole composed mail in memory: for the few callers that write a file (`sealpost encrypt`).
export async function collectMail(source: TMailSource): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source;
  const chunks: Buffer[] = [];
  for await (const chunk of source.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
