import type { TDb } from '../store/db';
import { parseOutgoingMessage } from '../mail/parse-message';
import { decideRecipients } from './decide-recipients';
import { stripSubjectKeyword } from './match-word';

export type TestRulesOptions = {
  db: TDb;
  tenantId: string;
  raw: Buffer;
  maxBytes: number;
  // The SMTP envelope, as the relay would have it: MAIL FROM and RCPT TO, each already normalised
  // (see readTestEnvelope). Without them, the From address and every To/Cc/Bcc address.
  envelope?: { sender?: string; recipients?: string[] };
};

export type TRuleTestResult = {
  recipient: string;
  rule: string | null;
  action: 'encrypt' | 'pass' | 'reject';
  template?: string;
  removeKeyword?: string;
  // The subject the recipient would see, when the rule removes its keyword from it.
  subject?: string;
  // The SMTP reply the relay would give.
  reply?: string;
};

// A dry run: what the rules decide for each recipient of a message. Reads the rules and nothing
// else; sends, stores and audits nothing.
export async function testRules({ db, tenantId, raw, maxBytes, envelope }: TestRulesOptions): Promise<TRuleTestResult[]> {
  const parsed = await parseOutgoingMessage({ raw, maxBytes });
  const decisions = await decideRecipients({
    db,
    tenantId,
    message: { raw, sender: envelope?.sender ?? parsed.sender, subject: parsed.subject },
    recipients: envelope?.recipients?.length ? envelope.recipients : parsed.recipients.map((r) => r.address),
  });
  return decisions.map(({ recipient, rule, action }) => {
    if (action.kind === 'pass') return { recipient, rule, action: 'pass' };
    if (action.kind === 'reject') return { recipient, rule, action: 'reject', reply: `550 5.7.1 ${action.text}` };
    return {
      recipient,
      rule,
      action: 'encrypt',
      template: action.template,
      ...(action.removeKeyword
        ? { removeKeyword: action.removeKeyword, subject: stripSubjectKeyword({ subject: parsed.subject, keyword: action.removeKeyword }) }
        : {}),
    };
  });
}
