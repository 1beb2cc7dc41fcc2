import { isAppError } from '@/lib/errors';

// The code of the AppError a promise rejects with; anything else (a result, another error) fails.
export async function errorCode(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error.code;
}
