import crypto from 'node:crypto';
import { logger } from './logger';

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  FORM_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NO_VALID_RECIPIENT: 422,
  UNPROCESSABLE: 422,
  INVALID_RECIPIENTS: 422,
  ENVELOPE_INVALID: 400,
  ENVELOPE_EXPIRED: 410,
  ENVELOPE_REVOKED: 410,
  RATE_LIMITED: 429,
  LOCKED_OUT: 429,
  SIGNIN_BLOCKED: 403,
  PASSCODE_WRONG: 400,
  PASSCODE_EXPIRED: 400,
  PASSCODE_EXHAUSTED: 400,
  PASSCODE_INVALID: 400,
  INTERNAL: 500,
  SERVER_BUSY: 503,
} as const;
export type TErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: TErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: TErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export type LogUnknownErrorOptions = { route?: string; what?: string };

// Stacks only where nobody else reads the log: a developer's machine asking for debug output.
const isStackLogged = () => process.env.NODE_ENV !== 'production' && ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');

// An unknown error's log line: an id the user can quote, the route, and a code (the error's own
// `code` or its class name). Never its message: a library's message can quote a token, an address
// or a line of the message it choked on.
export function logUnknownError(error: unknown, { route, what }: LogUnknownErrorOptions = {}): string {
  const errorId = crypto.randomUUID();
  const own = (error as { code?: unknown } | null)?.code;
  const code = isAppError(error)
    ? error.code
    : typeof own === 'string' || typeof own === 'number'
      ? String(own)
      : error instanceof Error
        ? error.name
        : typeof error;
  const stack = isStackLogged() && error instanceof Error ? { stack: error.stack } : {};
  logger.error({ errorId, route, what, code, ...stack }, 'unhandled error');
  return errorId;
}
