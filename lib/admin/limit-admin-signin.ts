import { consumeRateLimit } from '../rate-limit/rate-limits';
import type { TDb } from '../store/db';

export type LimitAdminSignInOptions = { db: TDb; tenantId: string; ip: string; now?: number };

// Every passkey ceremony started (its options: a challenge row) counts against the caller's
// address on this tenant (RATE_LIMITS.adminSignInPerIp). The answers need no count of their own:
// each needs a challenge of its own, consumed by its first answer, right or wrong.
export const limitAdminSignIn = ({ db, tenantId, ip, now = Date.now() }: LimitAdminSignInOptions) =>
  consumeRateLimit(db, { name: 'adminSignInPerIp', key: `${tenantId}:${ip}`, now });
