import type { Readable } from 'node:stream';

export type TDataResult = { kind: 'ok'; raw: Buffer } | { kind: 'too-large'; bytes: number } | { kind: 'smuggling' };

export type ReadDataStreamOptions = { stream: Readable; maxBytes: number };

// A dot between line ends that are not both CRLF: "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", ...
// Another server on the path may take it for end-of-data and read what follows as a second
// message with a forged sender (SMTP smuggling, CVE-2023-51764/51765/51766). smtp-server ends
// DATA only on CRLF.CRLF; such a message is refused whole, never split or passed on.
const SMUGGLING = /(?:\r\n|\r|\n)\.(?:\r\n|\r|\n)/g;

const isSmuggling = (text: string): boolean => {
  for (const m of text.matchAll(SMUGGLING)) if (m[0] !== '\r\n.\r\n') return true;
  return false;
};

// Reads one message's DATA: every byte is counted, but past maxBytes nothing more is kept (the
// rest is drained so the 552 can be sent), so a huge message never sits in memory.
export async function readDataStream({ stream, maxBytes }: ReadDataStreamOptions): Promise<TDataResult> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let isTooLarge = false;
  let isSmuggled = false;
  // The last bytes of the previous chunk: a pattern may straddle two chunks.
  let tail = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (!isSmuggled) {
      const text = tail + chunk.toString('latin1');
      isSmuggled = isSmuggling(text);
      tail = text.slice(-4);
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
