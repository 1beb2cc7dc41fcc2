import type { Kysely, Transaction } from 'kysely';
import type { TDatabase } from '../store/schema';

export type TAuditType =
  | 'sent'
  | 'passcode_sent'
  | 'signin_ok'
  | 'signin_failed'
  | 'viewed'
  | 'downloaded'
  | 'replied'
  | 'revoked'
  | 'expired'
  | 'bounced'
  | 'copy_sent'
  | 'forwarded'
  | 'signin_unblocked'
  | 'rule_matched'
  | 'delivery_deferred'
  | 'bounce_notified'
  | 'bounce_notice_limited';

export type RecordAuditOptions = {
  tenantId: string;
  messageId?: string | null;
  type: TAuditType;
  actor?: string | null;
  // Metadata only: never a token, passcode, key or any part of the message.
  data?: Record<string, string | number | boolean | null>;
  at?: number;
};

export async function recordAudit(db: Kysely<TDatabase> | Transaction<TDatabase>, o: RecordAuditOptions): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      tenant_id: o.tenantId,
      message_id: o.messageId ?? null,
      type: o.type,
      actor: o.actor ?? null,
      data: o.data ? JSON.stringify(o.data) : null,
      at: o.at ?? Date.now(),
    })
    .execute();
}
