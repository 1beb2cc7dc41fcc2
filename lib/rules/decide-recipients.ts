import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { doesRuleSetReadBody, evaluateRules } from './evaluate-rules';
import { readMessageFacts } from './read-message-facts';
import { loadRuleSet } from './rule-set-store';

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
  // removeKeyword: the subject keyword that triggered encryption, when the rule asks for it to be
  // removed from the subject (stripSubjectKeyword in match-word.ts does it).
  { kind: 'encrypt'; template: string; removeKeyword?: string } | { kind: 'pass' } | { kind: 'reject'; text: string };

// `rule` names the rule that decided, or null when no rule matched (the tenant's default action).
export type TRecipientDecision = { recipient: string; action: TRuleAction; rule: string | null };

export type DecideRecipientsOptions = {
  db: TDb;
  tenantId: string;
  // The tenant's mail domain where the caller has the tenant already (the relay): one query fewer.
  mailDomain?: string;
  // The raw message, its sender (MAIL FROM, or From) and its decoded subject.
  message: { raw: Buffer; sender: string; subject: string };
  recipients: string[];
};

// Decides, per recipient, what happens to a message: the tenant's rules in priority order (see
// evaluate-rules.ts for how matching rules combine), or its default action when none matches.
// The relay calls this and nothing else; it applies `removeKeyword` with stripSubjectKeyword.
// The body is parsed only when a rule of the set looks at it (its words or its attachments).
export async function decideRecipients({
  db,
  tenantId,
  mailDomain,
  message,
  recipients,
}: DecideRecipientsOptions): Promise<TRecipientDecision[]> {
  const [tenant, set] = await Promise.all([
    mailDomain === undefined
      ? db.selectFrom('tenants').select('mail_domain').where('id', '=', tenantId).executeTakeFirst()
      : { mail_domain: mailDomain },
    loadRuleSet({ db, tenantId }),
  ]);
  if (!tenant) throw new AppError('NOT_FOUND', 'No such tenant');
  const facts = await readMessageFacts({ ...message, isBodyRead: doesRuleSetReadBody(set) });
  return evaluateRules({ set, internalDomains: [tenant.mail_domain, ...set.internalDomains], facts, recipients });
}
