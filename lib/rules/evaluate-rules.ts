import type { TMessageFacts, TRecipientDecision, TRuleAction } from './decide-recipients';
import { findWord } from './match-word';
import type { TCondition, TRule, TRuleSet } from './schema';

export type EvaluateRulesOptions = {
  set: TRuleSet;
  // The tenant's mail domain and its extra internal domains; subdomains of each are internal too.
  internalDomains: string[];
  facts: TMessageFacts;
  recipients: string[];
};

// Of the actions of the matching rules, the strictest wins; at equal strictness the earlier rule
// (higher priority). A later rule can make a decision stricter, never weaker: a forgotten "stop"
// never lets a pass rule undo an encrypt rule above it. "Stop" ends the walk for that recipient.
const STRICTNESS: Record<TRuleAction['kind'], number> = { pass: 0, encrypt: 1, reject: 2 };

// Pure: the same set, facts and recipients always give the same decisions. Conditions about the
// message are computed once per message; only the recipient conditions are computed per recipient.
export function evaluateRules({ set, internalDomains, facts, recipients }: EvaluateRulesOptions): TRecipientDecision[] {
  const internal = internalDomains.map((d) => d.toLowerCase());
  const messageResults = new Map<TCondition, boolean>();
  const messageHolds = (c: TCondition) => {
    let held = messageResults.get(c);
    if (held === undefined) {
      held = holdsForMessage(c, facts);
      messageResults.set(c, held);
    }
    return held;
  };
  const rules = set.rules.filter((r) => r.enabled);
  return recipients.map((recipient) => {
    const domain = domainOf(recipient);
    let decided: { rule: TRule; action: TRuleAction } | null = null;
    for (const rule of rules) {
      const matches = rule.conditions.every((c) => {
        const raw =
          c.type === 'recipientOutside'
            ? !isInDomains(domain, internal)
            : c.type === 'recipientDomain'
              ? isInDomains(domain, c.domains)
              : messageHolds(c);
        return c.negate ? !raw : raw;
      });
      if (!matches) continue;
      const action = toAction(rule, facts);
      if (!decided || STRICTNESS[action.kind] > STRICTNESS[decided.action.kind]) decided = { rule, action };
      if (rule.stop) break;
    }
    if (decided) return { recipient, action: decided.action, rule: decided.rule.name };
    const fallback: TRuleAction =
      set.defaultAction.kind === 'encrypt' ? { kind: 'encrypt', template: set.defaultAction.template } : { kind: 'pass' };
    return { recipient, action: fallback, rule: null };
  });
}

// Whether any enabled rule looks at the body: its text or its attachments.
export const doesRuleSetReadBody = (set: TRuleSet) =>
  set.rules.some((r) => r.enabled && r.conditions.some((c) => c.type === 'subjectOrBodyContains' || c.type === 'hasAttachment'));

function holdsForMessage(c: TCondition, facts: TMessageFacts): boolean {
  switch (c.type) {
    case 'sender': {
      const sender = facts.sender.trim().toLowerCase();
      return c.senders.some((s) => (s.includes('@') ? s === sender : isInDomains(domainOf(sender), [s])));
    }
    case 'subjectContains':
      return findWord({ text: facts.subject, words: c.words }) !== null;
    case 'subjectOrBodyContains':
      return findWord({ text: facts.subject, words: c.words }) !== null || findWord({ text: facts.bodyText, words: c.words }) !== null;
    case 'header': {
      const name = c.name.toLowerCase();
      const wanted = c.value.toLowerCase();
      return facts.headers.some((h) => {
        if (h.name.trim().toLowerCase() !== name) return false;
        const value = h.value.trim().toLowerCase();
        return c.match === 'equals' ? value === wanted : value.includes(wanted);
      });
    }
    case 'largerThan':
      return facts.sizeBytes > c.bytes;
    case 'hasAttachment':
      return facts.hasAttachment;
    default:
      // Recipient conditions are decided per recipient by the caller.
      return false;
  }
}

// The encrypt action reports the subject keyword that triggered it when the rule asks for its
// removal: the word of the rule's first (not negated) keyword condition found in the subject.
function toAction(rule: TRule, facts: TMessageFacts): TRuleAction {
  const a = rule.action;
  if (a.kind === 'pass') return { kind: 'pass' };
  if (a.kind === 'reject') return { kind: 'reject', text: a.text };
  if (!a.removeKeyword) return { kind: 'encrypt', template: a.template };
  for (const c of rule.conditions) {
    if ((c.type === 'subjectContains' || c.type === 'subjectOrBodyContains') && !c.negate) {
      const word = findWord({ text: facts.subject, words: c.words });
      if (word) return { kind: 'encrypt', template: a.template, removeKeyword: word };
    }
  }
  return { kind: 'encrypt', template: a.template };
}

const domainOf = (address: string) => {
  const at = address.lastIndexOf('@');
  return at < 0
    ? ''
    : address
        .slice(at + 1)
        .trim()
        .toLowerCase()
        .replace(/\.$/, '');
};

// A listed domain covers its subdomains: "example.com" holds "mail.example.com", not "badexample.com".
const isInDomains = (domain: string, list: readonly string[]) =>
  domain !== '' && list.some((d) => domain === d || domain.endsWith(`.${d}`));
