import { recordAudit } from '../audit/record-audit';
import { addTenantKeyVersion } from '../envelope/tenant-keys';
import type { TContext } from '../server/context';

export type RotateTenantKeyOptions = { ctx: Pick<TContext, 'db' | 'master'>; tenantId: string; actor: string; now?: number };

// The CLI's `keys rotate` (a new current version; older mail keeps its own), in an admin's name.
export async function rotateTenantKey({ ctx, tenantId, actor, now = Date.now() }: RotateTenantKeyOptions) {
  const version = await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId, now });
  await recordAudit(ctx.db, {
    tenantId,
    type: 'key_rotated',
    actor,
    data: { before: JSON.stringify({ version: version - 1 }), after: JSON.stringify({ version }) },
    at: now,
  });
  return { version };
}
