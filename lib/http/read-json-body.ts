import 'server-only';
import { AppError } from '../errors';
import { readLimitedBody } from './read-limited-body';

// A passkey ceremony's answer is a few KB of JSON; anything larger is refused unread.
export const JSON_BODY_MAX_BYTES = 64 * 1024;

export type ReadJsonBodyOptions = { request: Request; maxBytes?: number };

export async function readJsonBody({ request, maxBytes = JSON_BODY_MAX_BYTES }: ReadJsonBodyOptions): Promise<Record<string, unknown>> {
  const body = await readLimitedBody({ request, maxBytes });
  try {
    const value: unknown = JSON.parse(body.toString('utf8') || '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new AppError('BAD_REQUEST', 'The request is not valid JSON.');
}
