import { z } from 'zod';
import type { TMasterKeyProvider } from '../envelope/master-key';
import type { TDb } from '../store/db';
import { readMessageSubjects } from './read-message-subjects';

export const MESSAGES_PAGE_SIZE = 50;

// The search form's fields, as the page's query string carries them; anything malformed is
// dropped rather than refused (a bookmarked search keeps working).
export const ZMessageSearch = z.object({
  sender: z.string().trim().toLowerCase().max(254).optional().catch(undefined),
  recipient: z.string().trim().toLowerCase().max(254).optional().catch(undefined),
  from: z.iso.date().optional().catch(undefined),
  to: z.iso.date().optional().catch(undefined),
  after: z
    .string()
    .regex(/^\d{1,15}\.[0-9a-f-]{36}$/)
    .optional()
    .catch(undefined),
});
export type TMessageSearch = z.infer<typeof ZMessageSearch>;

export type TMessageState = 'active' | 'expired' | 'revoked';

export type TAdminMessageRow = {
  id: string;
  createdAt: number;
  sender: string;
  // null: the template hides subjects, or the message was revoked or expired (shredded with it).
  subject: string | null;
  recipients: string[];
  template: string;
  state: TMessageState;
  views: number;
};

export const messageState = (
  m: { revoked_at: number | null; expires_at: number | null; shredded_at: number | null },
  now: number,
): TMessageState =>
  m.revoked_at !== null
    ? 'revoked'
    : m.shredded_at !== null || (m.expires_at !== null && Number(m.expires_at) <= now)
      ? 'expired'
      : 'active';

const DAY_MS = 24 * 60 * 60_000;

export type ListAdminMessagesOptions = { db: TDb; master: TMasterKeyProvider; tenantId: string; search: TMessageSearch; now?: number };

// Metadata only — never the envelope, a key or anything of the message's content. Newest first,
// by keyset (created_at, id): page N costs what page 1 costs, however deep.
export async function listAdminMessages({ db, master, tenantId, search, now = Date.now() }: ListAdminMessagesOptions) {
  let query = db
    .selectFrom('messages')
    .select(['id', 'created_at', 'sender', 'template', 'revoked_at', 'expires_at', 'shredded_at', 'key_version', 'subject_sealed'])
    .where('tenant_id', '=', tenantId);
  if (search.sender) {
    const pattern = `%${escapeLike(search.sender.toLowerCase())}%`;
    query = query.where((eb) => eb(eb.fn('lower', ['sender']), 'like', pattern));
  }
  if (search.recipient) {
    const address = search.recipient.toLowerCase();
    // Driven from the recipients' address index: the few messages to that address, not every
    // message of the tenant checked for one.
    query = query.where('id', 'in', (eb) =>
      eb.selectFrom('recipients').select('recipients.message_id').where('recipients.address', '=', address),
    );
  }
  if (search.from) query = query.where('created_at', '>=', Date.parse(`${search.from}T00:00:00Z`));
  if (search.to) query = query.where('created_at', '<', Date.parse(`${search.to}T00:00:00Z`) + DAY_MS);
  if (search.after) {
    const [at, id] = search.after.split('.') as [string, string];
    query = query.where((eb) => eb.or([eb('created_at', '<', Number(at)), eb.and([eb('created_at', '=', Number(at)), eb('id', '<', id)])]));
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(MESSAGES_PAGE_SIZE + 1)
    .execute();
  const page = rows.slice(0, MESSAGES_PAGE_SIZE);
  const ids = page.map((r) => r.id);
  const recipients = ids.length
    ? await db
        .selectFrom('recipients')
        .select(['message_id', 'address'])
        .where('message_id', 'in', ids)
        .where('kind', '!=', 'copy')
        .execute()
    : [];
  // Sorted here: ORDER BY address in SQL made SQLite walk the whole address index instead.
  recipients.sort((a, b) => a.address.localeCompare(b.address));
  const views = ids.length
    ? await db
        .selectFrom('audit_events')
        .select(['message_id'])
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', tenantId)
        .where('message_id', 'in', ids)
        .where('type', '=', 'viewed')
        .groupBy('message_id')
        .execute()
    : [];
  const subjects = await readMessageSubjects({ db, master, tenantId, rows: page });
  const items: TAdminMessageRow[] = page.map((r) => ({
    id: r.id,
    createdAt: Number(r.created_at),
    sender: r.sender,
    subject: subjects.get(r.id) ?? null,
    template: r.template,
    recipients: recipients.filter((x) => x.message_id === r.id).map((x) => x.address),
    state: messageState(r, now),
    views: Number(views.find((v) => v.message_id === r.id)?.n ?? 0),
  }));
  const last = page.at(-1);
  return { items, nextAfter: rows.length > MESSAGES_PAGE_SIZE && last ? `${Number(last.created_at)}.${last.id}` : null };
}

const escapeLike = (value: string) => value.replace(/[%_\\]/g, '');
