import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isMessageOpenable, type TMessageOpenState } from '@/lib/envelope/is-message-openable';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const KEY = Buffer.alloc(40, 1);

beforeAll(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterAll(() => vi.useRealTimers());

// Each row: the message's three fields that decide it, and the state it is in at NOW.
const CASES: Array<[string, { revoked_at: number | null; expires_at: number | null; wrapped_cek: Buffer | null }, TMessageOpenState]> = [
  ['no expiry, keyed', { revoked_at: null, expires_at: null, wrapped_cek: KEY }, 'open'],
  ['expires a millisecond from now', { revoked_at: null, expires_at: NOW + 1, wrapped_cek: KEY }, 'open'],
  ['expires exactly now', { revoked_at: null, expires_at: NOW, wrapped_cek: KEY }, 'expired'],
  ['expired a millisecond ago, not yet shredded', { revoked_at: null, expires_at: NOW - 1, wrapped_cek: KEY }, 'expired'],
  ['shredded, no expiry', { revoked_at: null, expires_at: null, wrapped_cek: null }, 'expired'],
  ['shredded before its expiry', { revoked_at: null, expires_at: NOW + 86_400_000, wrapped_cek: null }, 'expired'],
  ['revoked', { revoked_at: NOW - 1000, expires_at: null, wrapped_cek: null }, 'revoked'],
  ['revoked, and past its expiry too', { revoked_at: NOW - 1000, expires_at: NOW - 1, wrapped_cek: null }, 'revoked'],
  ['revoked, key still in the row', { revoked_at: NOW - 1000, expires_at: NOW + 1, wrapped_cek: KEY }, 'revoked'],
];

describe('isMessageOpenable', () => {
  it.each(CASES)('%s', (_name, message, state) => {
    expect(isMessageOpenable({ message, now: Date.now() })).toBe(state);
  });
});
