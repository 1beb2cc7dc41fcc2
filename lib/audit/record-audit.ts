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
  // The admin console (lib/admin): every change names its actor, and data.before / data.after.
  | 'admin_invited'
  | 'admin_added'
  | 'admin_passkey_added'
  | 'admin_passkey_removed'
  | 'admin_role_changed'
  | 'admin_removed'
  | 'admin_signin_ok'
  | 'admin_signin_failed'
  | 'admin_signed_out'
  | 'key_rotated'
  | 'api_key_created'
  | 'api_key_revoked'
  | 'relay_credential_created'
  | 'relay_credential_revoked'
  | 'template_saved'
  | 'template_deleted';

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
