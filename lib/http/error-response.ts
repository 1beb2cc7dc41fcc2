import 'server-only';
import { NextResponse } from 'next/server';
import { isAppError, logUnknownError, type LogUnknownErrorOptions } from '../errors';

export type ToErrorResponseOptions = { route?: string };

// Any thrown value becomes a JSON response; unknown errors become an opaque 500 that carries the
// id of their log line, so a user can quote it.
export function toErrorResponse(error: unknown, { route }: ToErrorResponseOptions = {}): Response {
  if (isAppError(error)) {
    return Response.json({ error: { code: error.code, message: error.message, ...(error.details ?? {}) } }, { status: error.status });
  }
  const errorId = logUnknownError(error, { route });
  return Response.json({ error: { code: 'INTERNAL', message: 'Internal error', errorId } }, { status: 500 });
}

export type TErrorText = { status: number; text: string; isUnknown: boolean };

// The same mapping as plain text, for what a browser navigates to or posts: an AppError's status
// and message (a missing thing says only "Not found": which tenants or messages exist is nobody's
// business), anything else an opaque 500 with the id of its log line.
export function toErrorText(error: unknown, options: LogUnknownErrorOptions = {}): TErrorText {
  if (isAppError(error)) return { status: error.status, text: error.code === 'NOT_FOUND' ? 'Not found' : error.message, isUnknown: false };
  const errorId = logUnknownError(error, options);
  return { status: 500, text: `Internal error (reference ${errorId})`, isUnknown: true };
}

export function toTextErrorResponse(error: unknown, options: LogUnknownErrorOptions = {}): NextResponse {
  const { status, text, isUnknown } = toErrorText(error, options);
  return new NextResponse(text, { status, headers: isUnknown ? { 'content-type': 'text/plain; charset=utf-8' } : undefined });
}

// A portal URL as a log line names it: the link token or message id left out.
export const routeOf = (request: Request) =>
  `${request.method} ${new URL(request.url).pathname.replace(/\/(r|m|invite|messages)\/[^/]+/g, '/$1/[id]')}`;
