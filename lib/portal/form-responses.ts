import { NextResponse } from 'next/server';
import { isAppError } from '../errors';
import { logger } from '../logger';

// A form post answered the no-JavaScript way: 303 to the page that shows the outcome.
export const seeOther = (location: string) => new NextResponse(null, { status: 303, headers: { Location: location } });

export type FormErrorResponseOptions = { error: unknown; backTo: string; what: string };

// The one mapping for the portal's form posts: unknown tenant 404, refused origin or session
// 401/403, anything the reader can fix back to the form with its error code, the rest an opaque 500.
export function formErrorResponse({ error, backTo, what }: FormErrorResponseOptions): NextResponse {
  if (isAppError(error)) {
    if (error.code === 'NOT_FOUND') return new NextResponse('Not found', { status: 404 });
    if (error.code === 'FORBIDDEN' || error.code === 'UNAUTHORIZED') return new NextResponse(error.message, { status: error.status });
    return seeOther(`${backTo}${backTo.includes('?') ? '&' : '?'}error=${error.code}`);
  }
  logger.error({ err: { name: (error as Error).name }, what }, 'portal form failed');
  return new NextResponse('Internal error', { status: 500 });
}
