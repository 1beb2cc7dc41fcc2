import crypto from 'node:crypto';
import { recordAudit } from '../audit/record-audit';
import { getTenantKey } from '../envelope/tenant-keys';
import { AppError } from '../errors';
import { parseOutgoingMessage } from '../mail/parse-message';
import { consumeRateLimit } from '../rate-limit/rate-limits';
import type { TContext } from '../server/context';
import { notifyOutbox } from '../mail/outbox';
import { getMessage } from '../store/messages';
import type { TMessageTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';
import { queueRecipientWrapper } from './build-recipient-wrapper';

export type TOwnReply = { id: string; createdAt: number; recipients: string[]; isKept: boolean };

const threadOf = (message: Pick<TMessageTable, 'id' | 'thread_id'>) => message.thread_id ?? message.id;

// Who signed in for one message may also read the replies they sent in its conversation.
export async function mayReadInSession(
  ctx: TContext,
  session: { messageId: string; address: string },
  message: TMessageTable,
): Promise<boolean> {
  if (message.id === session.messageId) return true;
  if (message.sender !== session.address || !message.thread_id) return false;
  const signedInFor = await getMessage(ctx.db, session.messageId);
  return !!signedInFor && signedInFor.tenant_id === message.tenant_id && threadOf(signedInFor) === message.thread_id;
}

export type ListOwnRepliesOptions = { ctx: TContext; message: TMessageTable; address: string };

// The replies this reader sent in the message's conversation, oldest first.
export async function listOwnReplies({ ctx, message, address }: ListOwnRepliesOptions): Promise<TOwnReply[]> {
  const rows = await ctx.db
    .selectFrom('messages')
    .select(['id', 'created_at', 'envelope', 'wrapped_cek'])
    .where('tenant_id', '=', message.tenant_id)
    .where('thread_id', '=', threadOf(message))
    .where('sender', '=', address)
    .where('id', '!=', message.id)
    .orderBy('created_at')
    .limit(100)
    .execute();
  if (!rows.length) return [];
  const recipients = await ctx.db
    .selectFrom('recipients')
    .select(['message_id', 'address'])
    .where(
      'message_id',
      'in',
      rows.map((r) => r.id),
    )
    .where('kind', '!=', 'copy')
    .orderBy('address')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    createdAt: Number(r.created_at),
    recipients: recipients.filter((x) => x.message_id === r.id).map((x) => x.address),
    isKept: r.envelope !== null && r.wrapped_cek !== null,
  }));
}

export type SendCopyOptions = { ctx: TContext; tenant: TTenant; message: TMessageTable; mime: Uint8Array; address: string; now?: number };

// "Send me a copy": the reader's own reply, as a wrapper mail to their own address, encrypted
// like any Sealpost message (they become a 'copy' recipient of it and sign in as one).
export async function sendCopy({ ctx, tenant, message, mime, address, now = Date.now() }: SendCopyOptions): Promise<void> {
  if (message.sender !== address) throw new AppError('FORBIDDEN', 'Copies are sent only of your own replies.');
  if (!message.envelope) throw new AppError('UNPROCESSABLE', 'This organisation keeps no copy of this message on its server.');
  await consumeRateLimit(ctx.db, { name: 'copiesPerAddress', key: `${tenant.id}:${address}`, now });
  const parsed = await parseOutgoingMessage({
    raw: Buffer.from(mime.buffer, mime.byteOffset, mime.byteLength),
    maxBytes: ctx.config.SEALPOST_MAX_MESSAGE_BYTES,
  });
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const existing = await ctx.db
    .selectFrom('recipients')
    .selectAll()
    .where('message_id', '=', message.id)
    .where('address', '=', address)
    .executeTakeFirst();
  const recipient = existing ?? { id: crypto.randomUUID(), message_id: message.id, address, kind: 'copy' as const };
  await ctx.db.transaction().execute(async (trx) => {
    if (!existing) await trx.insertInto('recipients').values(recipient).execute();
    await queueRecipientWrapper(trx, { tenant, tenantKey, messageId: message.id, kind: 'wrapper', sender: parsed, recipient, now });
    await recordAudit(trx, { tenantId: tenant.id, messageId: message.id, type: 'copy_sent', actor: address, at: now });
  });
  notifyOutbox();
}
