import { z } from 'zod';
import type { TDb } from '../store/db';

export const AUDIT_PAGE_SIZE = 50;
const DAY_MS = 24 * 60 * 60_000;

// The filters, as the page's query string carries them; anything malformed is dropped.
export const ZAuditSearch = z.object({
  type: z
    .string()
    .regex(/^[a-z_]{1,40}$/)
    .optional()
    .catch(undefined),
  address: z.string().trim().toLowerCase().max(254).optional().catch(undefined),
  message: z
    .string()
    .trim()
    .regex(/^[0-9a-f-]{36}$/)
    .optional()
    .catch(undefined),
  from: z.iso.date().optional().catch(undefined),
  to: z.iso.date().optional().catch(undefined),
  after: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional()
    .catch(undefined),
});
export type TAuditSearch = z.infer<typeof ZAuditSearch>;

export type TAuditRow = { id: number; at: number; type: string; messageId: string | null; actor: string | null; data: string | null };

export type SelectAuditEventsOptions = { db: TDb; tenantId: string; search: TAuditSearch; limit: number };

// One keyset page of the tenant's events, newest first (by id: ids only grow), filtered. The page
// and both exports read through this; `after` is the last id of the page before.
export async function selectAuditEvents({ db, tenantId, search, limit }: SelectAuditEventsOptions): Promise<TAuditRow[]> {
  // An address is the actor of its own events: a reader's, or an admin's (admin:<address>). One
  // query per form, merged: each walks the (tenant, actor, id) index in order, where one query
  // for both would scan the tenant's whole log.
  if (search.address) {
    const address = search.address.toLowerCase();
    const forms = await Promise.all([address, `admin:${address}`].map((actor) => selectForActor({ db, tenantId, search, limit, actor })));
    return forms
      .flat()
      .sort((a, b) => b.id - a.id)
      .slice(0, limit);
  }
  return selectForActor({ db, tenantId, search, limit, actor: null });
}

async function selectForActor({ db, tenantId, search, limit, actor }: SelectAuditEventsOptions & { actor: string | null }) {
  let query = db.selectFrom('audit_events').select(['id', 'at', 'type', 'message_id', 'actor', 'data']).where('tenant_id', '=', tenantId);
  if (actor !== null) query = query.where('actor', '=', actor);
  if (search.type) query = query.where('type', '=', search.type);
  if (search.message) query = query.where('message_id', '=', search.message);
  if (search.from) query = query.where('at', '>=', Date.parse(`${search.from}T00:00:00Z`));
  if (search.to) query = query.where('at', '<', Date.parse(`${search.to}T00:00:00Z`) + DAY_MS);
  if (search.after) query = query.where('id', '<', Number(search.after));
  const rows = await query.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ id: Number(r.id), at: Number(r.at), type: r.type, messageId: r.message_id, actor: r.actor, data: r.data }));
}

export type ListAuditEventsOptions = { db: TDb; tenantId: string; search: TAuditSearch };

export async function listAuditEvents({ db, tenantId, search }: ListAuditEventsOptions) {
  const rows = await selectAuditEvents({ db, tenantId, search, limit: AUDIT_PAGE_SIZE + 1 });
  const items = rows.slice(0, AUDIT_PAGE_SIZE);
  return { items, nextAfter: rows.length > AUDIT_PAGE_SIZE ? String(items.at(-1)!.id) : null };
}
