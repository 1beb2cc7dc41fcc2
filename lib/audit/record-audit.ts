import type { Kysely, Transaction } from 'kysely';
import { getMetrics } from '../metrics/metrics';
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
  // A reader tried what the message's usage restrictions refuse (data.action, data.restrictions).
  | 'restricted_action_refused'
  | 'signin_unblocked'
  | 'rule_matched'
  | 'delivery_deferred'
  | 'bounce_notified'
  | 'bounce_notice_limited'
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
  | 'template_deleted'
  | 'identity_provider_added'
  | 'identity_provider_removed'
  | 'identity_provider_changed'
  | 'custom_domain_changed'
  // Mail-flow rules and connectors (the console and the CLI).
  | 'rule_added'
  | 'rule_changed'
  | 'rule_moved'
  | 'rule_removed'
  | 'connector_added'
  | 'connector_removed'
  // The relay's inbound route (lib/relay/inbound-route.ts).
  | 'inbound_route_set'
  | 'inbound_route_removed'
  // S/MIME certificates (lib/smime): a signing certificate imported, a recipient's or a CA added or
  // removed by an admin, a correspondent's taken from a verified signature.
  | 'smime_certificate_added'
  | 'smime_certificate_removed';

export type RecordAuditOptions = {
  tenantId: string;
  messageId?: string | null;
  type: TAuditType;
  actor?: string | null;
  // Metadata only: never a token, passcode, key or any part of the message.
  data?: Record<string, string | number | boolean | null>;
  at?: number;
};

// The audit log's events that the metrics count too (counted when written: a transaction that
// rolls back afterwards still counts, which only a failing database does).
function countForMetrics(o: RecordAuditOptions): void {
  const metrics = getMetrics();
  if (o.type === 'passcode_sent') metrics.passcodesSent.inc();
  else if (o.type === 'signin_ok' || o.type === 'signin_failed') {
    const method = typeof o.data?.method === 'string' ? o.data.method : 'unknown';
    metrics.signIns.inc({ method, result: o.type === 'signin_ok' ? 'ok' : 'failed' });
  }
}

export async function recordAudit(db: Kysely<TDatabase> | Transaction<TDatabase>, o: RecordAuditOptions): Promise<void> {
  countForMetrics(o);
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
