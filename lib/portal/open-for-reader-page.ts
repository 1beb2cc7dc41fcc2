import { cookies } from 'next/headers';
import { forbidden, unauthorized } from 'next/navigation';
import { sessionCookieName } from '../auth/recipient-session';
import { isAppError } from '../errors';
import { openForReader, type OpenForReaderOptions } from './open-for-reader';

// openForReader for a page: no session is a 401 page, someone else's message a 403 page.
export async function openForReaderPage({ ctx, tenant, messageId }: Omit<OpenForReaderOptions, 'sessionValue'>) {
  try {
    return await openForReader({ ctx, tenant, messageId, sessionValue: (await cookies()).get(sessionCookieName(ctx.config))?.value });
  } catch (error) {
    if (isAppError(error) && error.code === 'UNAUTHORIZED') unauthorized();
    if (isAppError(error) && error.code === 'FORBIDDEN') forbidden();
    throw error;
  }
}
