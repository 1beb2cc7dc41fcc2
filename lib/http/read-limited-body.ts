import 'server-only';
import { AppError } from '../errors';

export type ReadLimitedBodyOptions = { request: Request; maxBytes: number };

// Reads a request body up to a limit, refusing as soon as it is passed (before buffering it all).
export async function readLimitedBody({ request, maxBytes }: ReadLimitedBodyOptions): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The message is larger than the limit of ${maxBytes} bytes`);
  }
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new AppError('PAYLOAD_TOO_LARGE', `The message is larger than the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
