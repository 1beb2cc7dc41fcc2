import { consumeRateLimit } from '../rate-limit/rate-limits';
import type { TDb } from '../store/db';

export type LimitAdminSignInOptions = { db: TDb; tenantId: string; ip: string; now?: number };

// Every step of a passkey ceremony counts against the caller's address on this tenant
// (RATE_LIMITS.adminSignInPerIp).
export const limitAdminSignIn = ({ db, tenantId, ip, now = Date.now() }: LimitAdminSignInOptions) =>
  consumeRateLimit(db, { name: 'adminSignInPerIp', key: `${tenantId}:${ip}`, now });
