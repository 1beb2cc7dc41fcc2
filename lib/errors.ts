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

// Any thrown value becomes a JSON response; unknown errors become an opaque 500 and a log line.
export function toErrorResponse(error: unknown): Response {
  if (isAppError(error)) {
    return Response.json(
      { error: { code: error.code, message: error.message, ...(error.details ?? {}) } },
      { status: error.status },
    );
  }
  logger.error({ err: error instanceof Error ? { name: error.name, stack: error.stack } : String(error) }, 'unhandled error');
  return Response.json({ error: { code: 'INTERNAL', message: 'Internal error' } }, { status: 500 });
}
