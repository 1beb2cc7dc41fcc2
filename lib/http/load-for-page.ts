import 'server-only';
import { forbidden, notFound, redirect, unauthorized } from 'next/navigation';
import { isAppError, type TErrorCode } from '../errors';

// A message that can no longer be opened: revoked, expired, or no longer held.
const GONE: TErrorCode[] = ['ENVELOPE_REVOKED', 'ENVELOPE_EXPIRED', 'ENVELOPE_INVALID'];
export const isGoneError = (error: unknown) => isAppError(error) && GONE.includes(error.code);

export type LoadForPageOptions = {
  // Where a page whose message is gone sends the reader: a route that answers with the state's
  // status (App Router pages can only answer 200, 401, 403 or 404).
  goneTo?: string;
};

// What a page loads, with the AppErrors a page can answer mapped to Next.js's own pages: unknown
// 404, no session 401, someone else's 403, gone its own page. Anything else is the error it is.
export async function loadForPage<T>(load: () => Promise<T>, { goneTo }: LoadForPageOptions = {}): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isAppError(error)) {
      if (error.code === 'NOT_FOUND') notFound();
      if (error.code === 'UNAUTHORIZED') unauthorized();
      if (error.code === 'FORBIDDEN') forbidden();
      if (goneTo && isGoneError(error)) redirect(goneTo);
    }
    throw error;
  }
}
