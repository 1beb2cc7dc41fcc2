import crypto from 'node:crypto';
import type { TDb } from '../store/db';
import type { TAdminChallengeTable } from '../store/schema';

// A ceremony has this long between the options and the passkey's answer.
export const CHALLENGE_TTL_MS = 5 * 60_000;

export type SaveChallengeOptions = {
  db: TDb;
  tenantId: string;
  purpose: TAdminChallengeTable['purpose'];
  subject: string | null;
  challenge: string;
  now: number;
};

export async function saveChallenge({ db, tenantId, purpose, subject, challenge, now }: SaveChallengeOptions): Promise<string> {
  const id = crypto.randomUUID();
  await db
    .insertInto('admin_challenges')
    .values({ id, tenant_id: tenantId, purpose, subject, challenge, expires_at: now + CHALLENGE_TTL_MS })
    .execute();
  return id;
}

export type TakeChallengeOptions = { db: TDb; tenantId: string; id: string; purpose: TAdminChallengeTable['purpose']; now: number };

// Consumed once: deleted as it is read, so an answer can never be replayed against it.
export async function takeChallenge({ db, tenantId, id, purpose, now }: TakeChallengeOptions) {
  if (!/^[0-9a-f-]{36}$/.test(id)) return null;
  const row = await db
    .deleteFrom('admin_challenges')
    .where('id', '=', id)
    .where('tenant_id', '=', tenantId)
    .where('purpose', '=', purpose)
    .returningAll()
    .executeTakeFirst();
  return row && now < Number(row.expires_at) ? row : null;
}
