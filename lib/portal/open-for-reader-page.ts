import { forbidden, redirect, unauthorized } from 'next/navigation';
import { isAppError } from '../errors';
import type { OpenForReaderOptions } from './open-for-reader';
import { openForRequest } from './request-session';

// openForReader for a page: no session is a 401 page, someone else's message a 403 page, a
// message that can no longer be opened its own page.
export async function openForReaderPage({ ctx, tenant, messageId }: Omit<OpenForReaderOptions, 'sessionValue'>) {
  try {
    return await openForRequest({ ctx, tenant, messageId });
  } catch (error) {
    if (isAppError(error) && error.code === 'UNAUTHORIZED') unauthorized();
    if (isAppError(error) && error.code === 'FORBIDDEN') forbidden();
    // Revoked, expired, or no longer held: a page of its own, with its HTTP status.
    if (isAppError(error) && ['ENVELOPE_REVOKED', 'ENVELOPE_EXPIRED', 'ENVELOPE_INVALID'].includes(error.code)) redirect(`/m/${messageId}/gone`);
    throw error;
  }
}
