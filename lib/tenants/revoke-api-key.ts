import { AppError } from '../errors';
import type { TDb } from '../store/db';

export type RevokeApiKeyOptions = { db: TDb; tenantId: string; id: string; now?: number };

// The key stops working at once; its row stays for the record.
export async function revokeApiKey({ db, tenantId, id, now = Date.now() }: RevokeApiKeyOptions) {
  const r = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', 'No active API key with that id');
  return { id, revoked: true };
}
