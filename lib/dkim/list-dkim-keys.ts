import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { toDkimKeyView } from './dkim-keys';

export type ListDkimKeysOptions = { ctx: Pick<TContext, 'db'>; tenant: TTenant };

// What an operator publishes and when a retired record can go: never the private key.
export async function listDkimKeys({ ctx, tenant }: ListDkimKeysOptions) {
  const rows = await ctx.db
    .selectFrom('dkim_keys')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .orderBy('domain')
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((row) => toDkimKeyView(row));
}
