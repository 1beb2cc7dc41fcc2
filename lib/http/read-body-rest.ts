import 'server-only';
import { AppError } from '../errors';
import type { TBodyCursor } from './read-leading-field';

export type ReadBodyRestOptions = {
  cursor: TBodyCursor;
  // The whole body's limit, counted from its first byte.
  maxBytes: number;
  // Past this many bytes the body counts as large: onLarge is asked (once) whether it may go on.
  largeAfter: number;
  onLarge: () => boolean;
};

// The rest of a body whose first field was read by readLeadingField, refused as soon as it
// passes maxBytes, or when it turns large and onLarge says no (no upload slot free).
export async function readBodyRest({ cursor, maxBytes, largeAfter, onLarge }: ReadBodyRestOptions): Promise<Buffer> {
  const parts: Uint8Array[] = [cursor.head];
  let length = cursor.head.byteLength;
  let total = cursor.bytesRead;
  let isLarge = false;
  for (;;) {
    if (!isLarge && total > largeAfter) {
      isLarge = true;
      if (!onLarge()) {
        cancelBody(cursor);
        throw new AppError('SERVER_BUSY', 'The server is busy. Please try again in a moment.');
      }
    }
    if (total > maxBytes) {
      cancelBody(cursor);
      throw new AppError('PAYLOAD_TOO_LARGE', `The message is larger than the limit of ${maxBytes} bytes`);
    }
    const { done, value } = await cursor.reader.read();
    if (done) break;
    parts.push(value);
    length += value.byteLength;
    total += value.byteLength;
  }
  return Buffer.concat(parts, length);
}

// A refused body is read no further: the rest of the upload is cancelled, not drained (the
// answer still reaches the client; the end-to-end test of /open checks it).
export function cancelBody({ reader }: { reader: ReadableStreamDefaultReader<Uint8Array> }): void {
  reader.cancel().catch(() => {});
}
