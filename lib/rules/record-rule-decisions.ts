import type { Kysely, Transaction } from 'kysely';
import type { TAuditType } from '../audit/record-audit';
import type { TDatabase } from '../store/schema';
import type { TRecipientDecision } from './decide-recipients';

export type RecordRuleDecisionsOptions = {
  db: Kysely<TDatabase> | Transaction<TDatabase>;
  tenantId: string;
  // The sealed message, when there is one (null for a message passed through or rejected).
  messageId?: string | null;
  // Per recipient, the sealed message that recipient gets, where a message was split (the relay
  // seals one message per template); recipients missing here get `messageId`.
  messageIds?: ReadonlyMap<string, string>;
  decisions: TRecipientDecision[];
  actor?: string | null;
  at?: number;
};

const TYPE: TAuditType = 'rule_matched';

// One 'rule_matched' audit event per recipient: the rule that decided (null: the default
// action), the action and template. Never the subject, a keyword or any other content. One
// insert for all recipients (recordAudit's row shape), so a large fan-out inside the relay's
// commit costs one round trip.
export async function recordRuleDecisions({
  db,
  tenantId,
  messageId = null,
  messageIds,
  decisions,
  actor = 'relay',
  at = Date.now(),
}: RecordRuleDecisionsOptions): Promise<void> {
  // Chunks keep each insert under PostgreSQL's 65,535 bind parameters.
  for (let i = 0; i < decisions.length; i += 1000) {
    await db
      .insertInto('audit_events')
      .values(
        decisions.slice(i, i + 1000).map((d) => ({
          tenant_id: tenantId,
          message_id: messageIds?.get(d.recipient) ?? messageId,
          type: TYPE,
          actor,
          at,
          data: JSON.stringify({
            recipient: d.recipient,
            rule: d.rule,
            action: d.action.kind,
            template: d.action.kind === 'encrypt' ? d.action.template : null,
          }),
        })),
      )
      .execute();
  }
}
