import { unwrapContentKey } from '../envelope/content-key';
import { maxEnvelopeChars, readEnvelopeHeader } from '../envelope/envelope';
import { compactSource, openEnvelopeWhole } from '../envelope/envelope-stream';
import { getTenantKey } from '../envelope/tenant-keys';
import type { TContext } from '../server/context';
import { storedEnvelopeSource } from '../store/envelope-parts';
import { getMessage } from '../store/messages';
import { getPendingEnvelope } from '../store/pending-envelopes';
import type { TOutboxTable } from '../store/schema';

export type OpenInternalReplyOptions = { ctx: TContext; row: TOutboxTable; now?: number };

export type TInternalReplyOutcome =
  | { kind: 'opened'; raw: Buffer }
  | { kind: 'cancelled'; reason: string }
  | { kind: 'invalid'; reason: string };

// A portal reply to one of the tenant's own users, opened at the last moment for its internal
// connector: the outbox keeps only the sealed row, as for any wrapper.
export async function openInternalReply({ ctx, row, now = Date.now() }: OpenInternalReplyOptions): Promise<TInternalReplyOutcome> {
  if (row.kind !== 'reply' || !row.message_id || !row.recipient_id) return { kind: 'invalid', reason: 'not a queued reply' };
  const message = await getMessage(ctx.db, row.message_id);
  if (!message || message.tenant_id !== row.tenant_id) return { kind: 'invalid', reason: 'queued reply of an unknown message' };
  // Revoked or expired: nothing is sent, decrypted or not.
  if (message.revoked_at || message.shredded_at || !message.wrapped_cek)
    return { kind: 'cancelled', reason: 'message revoked or expired before delivery' };
  if (message.expires_at !== null && message.expires_at <= now) return { kind: 'cancelled', reason: 'message expired before delivery' };
  const recipient = await ctx.db
    .selectFrom('recipients')
    .select(['address'])
    .where('id', '=', row.recipient_id)
    .where('message_id', '=', message.id)
    .executeTakeFirst();
  if (!recipient || recipient.address !== row.rcpt_to) return { kind: 'invalid', reason: 'queued reply does not match its recipient' };
  const pending = message.envelope ? null : await getPendingEnvelope(ctx.db, message.id);
  if (!message.envelope && !pending) return { kind: 'cancelled', reason: 'the message is no longer held for delivery' };
  try {
    const source = message.envelope ? storedEnvelopeSource(ctx.db, message.id, message.envelope) : compactSource(pending!);
    const header = readEnvelopeHeader({
      token: source.frame.text,
      tenantId: row.tenant_id,
      maxChars: maxEnvelopeChars(ctx.config.SEALPOST_MAX_MESSAGE_BYTES),
    });
    if (header.kid !== message.id) return { kind: 'invalid', reason: 'queued reply envelope names another message' };
    const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: row.tenant_id, version: message.key_version });
    const contentKey = unwrapContentKey({ tenantKey, tenantId: row.tenant_id, messageId: message.id, wrapped: message.wrapped_cek });
    try {
      return { kind: 'opened', raw: await openEnvelopeWhole({ source, header, contentKey }) };
    } finally {
      contentKey.fill(0);
    }
  } catch {
    return { kind: 'invalid', reason: 'queued reply cannot be decrypted' };
  }
}
