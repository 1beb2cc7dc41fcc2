import 'server-only';
import { AppError, isAppError } from '../errors';
import { readLimitedBody } from './read-limited-body';

// Every form a reader posts before signing in is a few short fields; 16 KB is far more than any
// of them needs, and anything larger is refused before it is buffered or parsed.
export const SMALL_FORM_MAX_BYTES = 16 * 1024;

export type ReadSmallFormOptions = { request: Request; maxBytes?: number };

// The body of an unauthenticated form post (passcode, sign-in, federated start, sign-out), refused
// past the small limit by its declared length or, when chunked, as soon as the stream passes it:
// memory exhaustion by anyone holding a link (or none).
export async function readSmallForm({ request, maxBytes = SMALL_FORM_MAX_BYTES }: ReadSmallFormOptions): Promise<URLSearchParams> {
  try {
    const body = await readLimitedBody({ request, maxBytes });
    return new URLSearchParams(body.toString('utf8'));
  } catch (error) {
    if (isAppError(error) && error.code === 'PAYLOAD_TOO_LARGE')
      throw new AppError('FORM_TOO_LARGE', `The form is larger than the limit of ${maxBytes} bytes`);
    throw error;
  }
}
