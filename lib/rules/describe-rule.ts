import type { TCondition, TRule } from './schema';

const quoted = (items: string[]) => items.map((i) => `“${i}”`).join(' or ');

const formatBytes = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MB` : bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)} KB` : `${bytes} bytes`;

// One condition in plain words, as if it held (a negated one is listed under "except if").
function describeCondition(c: TCondition): string {
  switch (c.type) {
    case 'recipientOutside':
      return 'the recipient is outside the organisation';
    case 'recipientDomain':
      return `the recipient's domain is ${quoted(c.domains)}`;
    case 'sender':
      return `the sender is ${quoted(c.senders)}`;
    case 'subjectContains':
      return `the subject contains ${quoted(c.words)}`;
    case 'subjectOrBodyContains':
      return `the subject or body contains ${quoted(c.words)}`;
    case 'header':
      return `the header ${c.name} ${c.match === 'equals' ? 'is' : 'contains'} “${c.value}”`;
    case 'largerThan':
      return `the message is larger than ${formatBytes(c.bytes)}`;
    case 'hasAttachment':
      return 'the message has an attachment';
  }
}

function describeAction(action: TRule['action']): string {
  if (action.kind === 'pass') return 'send it without encryption';
  if (action.kind === 'reject') return `reject it (“550 5.7.1 ${action.text}”)`;
  return `encrypt it with the template “${action.template}”${action.removeKeyword ? ', removing the keyword from the subject' : ''}`;
}

// A rule in plain words for the console's list: "If … and …, except if … or …: encrypt it with
// the template “default”. Then stop."
export function describeRule(rule: TRule): string {
  const all = rule.conditions.filter((c) => !c.negate).map(describeCondition);
  const except = rule.conditions.filter((c) => c.negate).map(describeCondition);
  const when = all.length ? `If ${all.join(' and ')}` : 'For every message';
  const unless = except.length ? `, except if ${except.join(' or ')}` : '';
  const stop = rule.stop ? ' Then stop: no later rule applies.' : '';
  return `${when}${unless}: ${describeAction(rule.action)}.${stop}`;
}
