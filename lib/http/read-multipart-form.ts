import 'server-only';
import { AppError, isAppError } from '../errors';
import { readLimitedBody } from './read-limited-body';

export type ReadMultipartFormOptions = { request: Request; maxBytes: number };

// A form with a file (a template's logo): refused past the limit before it is parsed.
export async function readMultipartForm({ request, maxBytes }: ReadMultipartFormOptions): Promise<FormData> {
  let body: Buffer;
  try {
    body = await readLimitedBody({ request, maxBytes });
  } catch (error) {
    if (isAppError(error) && error.code === 'PAYLOAD_TOO_LARGE') throw new AppError('BAD_REQUEST', 'The form is too large.');
    throw error;
  }
  try {
    return await new Response(new Uint8Array(body), { headers: { 'content-type': request.headers.get('content-type') ?? '' } }).formData();
  } catch {
    throw new AppError('BAD_REQUEST', 'The form could not be read.');
  }
}
