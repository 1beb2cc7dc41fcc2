import crypto from 'node:crypto';
import { deriveKey } from '../../envelope/aead';
import type { TTenantKey } from '../../envelope/tenant-keys';
import { COUNT_LIMITS } from '../../rate-limit/rate-limits';

export const PASSCODE_TTL_MS = 10 * 60_000;
// Both limits live in the rate-limit table (COUNT_LIMITS); these are their names here.
export const PASSCODE_MAX_ATTEMPTS = COUNT_LIMITS.passcodeTriesPerCode;
export const PASSCODE_MAX_CONSECUTIVE_FAILURES = COUNT_LIMITS.passcodeConsecutiveFailures;
const REFERENCE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

// The key every per-recipient passcode limit counts under: one recipient of one message.
export const passcodeRecipientKey = (messageId: string, address: string) => `${messageId}:${address}`;

export const newPasscode = () => String(crypto.randomInt(0, 100_000_000)).padStart(8, '0');
export const newReference = () =>
  Array.from({ length: 4 }, () => REFERENCE_ALPHABET[crypto.randomInt(0, REFERENCE_ALPHABET.length)]).join('');
export const newBrowserSecret = () => crypto.randomBytes(32).toString('base64url');

// Stored only as a keyed hash, bound to its challenge: a database reader cannot test 10^8 codes
// offline without the tenant key, and a hash moved to another challenge does not match.
export const hashPasscode = (tenantKey: TTenantKey, challengeId: string, code: string) =>
  crypto.createHmac('sha256', deriveKey(tenantKey.key, 'passcode')).update(`${challengeId}:${code}`).digest('hex');

export const hashBrowserSecret = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');

export const safeEqualHex = (a: string, b: string) => {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y);
};
