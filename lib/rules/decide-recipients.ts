import type { TDb } from '../store/db';

// What the relay knows of a message when it decides, per recipient, what happens to it. Only
// metadata and the text a rule may look at; nothing of it is stored or logged.
export type TMessageFacts = {
  sender: string;
  subject: string;
  // Every header field, unfolded, in order (names as written).
  headers: Array<{ name: string; value: string }>;
  // The text of the body (text/plain parts, or HTML parts as text), for "subject or body contains".
  bodyText: string;
  sizeBytes: number;
  hasAttachment: boolean;
};

export type TRuleAction =
  | { kind: 'encrypt'; template: string; removeKeyword?: string }
  | { kind: 'pass' }
  | { kind: 'reject'; text: string };

// `rule` names the rule that decided, or null when no rule matched (the tenant's default action).
export type TRecipientDecision = { recipient: string; action: TRuleAction; rule: string | null };

export type DecideRecipientsOptions = { db: TDb; tenantId: string; facts: TMessageFacts; recipients: string[] };

// INTERFACE ONLY while the rules engine is being written on its own branch: every recipient gets
// the tenant's default action (pass through). Replaced by the real engine before this reaches main.
export async function decideRecipients({ recipients }: DecideRecipientsOptions): Promise<TRecipientDecision[]> {
  return recipients.map((recipient) => ({ recipient, action: { kind: 'pass' }, rule: null }));
}
