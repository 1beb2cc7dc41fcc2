import type { Kysely } from 'kysely';
import type { TDatabase } from '../store/schema';
import { DKIM_RETIRED_KEEP_MS } from './dkim-keys';

// Housekeeping: a key retired by rotation more than a week ago is deleted (its record can go).
export async function purgeRetiredDkimKeys(db: Kysely<TDatabase>, now: number): Promise<number> {
  const result = await db
    .deleteFrom('dkim_keys')
    .where('retired_at', 'is not', null)
    .where('retired_at', '<=', now - DKIM_RETIRED_KEEP_MS)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
