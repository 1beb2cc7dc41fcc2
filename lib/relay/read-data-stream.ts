import type { Readable } from 'node:stream';

export type TDataResult = { kind: 'ok'; raw: Buffer } | { kind: 'too-large'; bytes: number } | { kind: 'smuggling' };

export type ReadDataStreamOptions = { stream: Readable; maxBytes: number };

// A dot between line ends that are not both CRLF: "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", ...
// Another server on the path may take it for end-of-data and read what follows as a second
// message with a forged sender (SMTP smuggling, CVE-2023-51764/51765/51766). smtp-server ends
// DATA only on CRLF.CRLF; such a message is refused whole, never split or passed on.
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

// Whether a line-start dot in `bytes` sits between line ends that are not CRLF and CRLF. Scans
// bytes in place (no copy of the chunk): `bytes` is the previous chunk's last 3 bytes + this one.
function hasSmuggling(bytes: Buffer): boolean {
  for (let i = bytes.indexOf(DOT, 1); i >= 0 && i < bytes.length - 1; i = bytes.indexOf(DOT, i + 1)) {
    const before = bytes[i - 1];
    if (before !== CR && before !== LF) continue;
    const after = bytes[i + 1];
    if (after !== CR && after !== LF) continue;
    const isCrlfBefore = before === LF && bytes[i - 2] === CR;
    const isCrlfAfter = after === CR && bytes[i + 2] === LF;
    // "\r\n.\r" at a chunk's end: its LF may be in the next chunk.
    if (after === CR && i + 2 >= bytes.length) continue;
    if (!(isCrlfBefore && isCrlfAfter)) return true;
  }
  return false;
}

// Reads one message's DATA: every byte is counted, but past maxBytes nothing more is kept (the
// rest is drained so the 552 can be sent), so a huge message never sits in memory.
export async function readDataStream({ stream, maxBytes }: ReadDataStreamOptions): Promise<TDataResult> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let isTooLarge = false;
  let isSmuggled = false;
  // The last bytes of the previous chunk: a pattern may straddle two chunks.
  let tail = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (!isSmuggled) {
      const window = tail.length ? Buffer.concat([tail, chunk.subarray(0, 8)]) : null;
      isSmuggled = (window !== null && hasSmuggling(window)) || hasSmuggling(chunk);
      tail = Buffer.from(chunk.subarray(-4));
    }
    if (isTooLarge || isSmuggled) continue;
    if (bytes > maxBytes) {
      isTooLarge = true;
      chunks.length = 0;
      continue;
    }
    chunks.push(chunk);
  }
  if (isSmuggled) return { kind: 'smuggling' };
  if (isTooLarge) return { kind: 'too-large', bytes };
  return { kind: 'ok', raw: Buffer.concat(chunks) };
}
