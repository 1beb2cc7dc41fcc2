import type { TMessageTable } from '../store/schema';

export type TMessageOpenState = 'open' | 'revoked' | 'expired';

export type IsMessageOpenableOptions = { message: Pick<TMessageTable, 'revoked_at' | 'expires_at' | 'wrapped_cek'>; now: number };

// Whether a message may still be opened, and if not why: revoked by its sender, or expired (its
// time is up, or its content key is already shredded). The one place this is decided; callers
// turn the state into an error, a page or a cancelled delivery.
export function isMessageOpenable({ message, now }: IsMessageOpenableOptions): TMessageOpenState {
  if (message.revoked_at) return 'revoked';
  if (!message.wrapped_cek || (message.expires_at !== null && now >= message.expires_at)) return 'expired';
  return 'open';
}
