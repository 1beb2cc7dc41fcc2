import { AppError } from '../errors';
import type { TMasterKeyProvider } from '../envelope/master-key';
import type { TDb } from '../store/db';
import type { TMessageTable } from '../store/schema';
import { messageState, type TAdminMessageRow } from './list-admin-messages';
import { readMessageSubjects } from './read-message-subjects';

export type GetAdminMessageOptions = { db: TDb; master: TMasterKeyProvider; tenantId: string; messageId: string; now?: number };

// One message's metadata, if it is this tenant's; otherwise NOT_FOUND (as for an unknown id).
export async function getAdminMessageOrThrow({
  db,
  master,
  tenantId,
  messageId,
  now = Date.now(),
}: GetAdminMessageOptions): Promise<TAdminMessageRow & { restrictions: TMessageTable['restrictions'] }> {
  const row = /^[0-9a-f-]{36}$/.test(messageId)
    ? await db
        .selectFrom('messages')
        .select([
          'id',
          'created_at',
          'sender',
          'template',
          'restrictions',
          'revoked_at',
          'expires_at',
          'shredded_at',
          'key_version',
          'subject_sealed',
        ])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', messageId)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new AppError('NOT_FOUND', 'Not found');
  const recipients = await db
    .selectFrom('recipients')
    .select('address')
    .where('message_id', '=', row.id)
    .where('kind', '!=', 'copy')
    .orderBy('address')
    .execute();
  const views = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('message_id', '=', row.id)
    .where('type', '=', 'viewed')
    .executeTakeFirstOrThrow();
  const subjects = await readMessageSubjects({ db, master, tenantId, rows: [row] });
  return {
    id: row.id,
    createdAt: Number(row.created_at),
    sender: row.sender,
    subject: subjects.get(row.id) ?? null,
    template: row.template,
    // As recorded when it was sent (its template may read otherwise now; it can only tighten it).
    restrictions: row.restrictions,
    recipients: recipients.map((r) => r.address),
    state: messageState(row, now),
    views: Number(views.n),
  };
}
