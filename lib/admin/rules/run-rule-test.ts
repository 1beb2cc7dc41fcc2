import { isAppError } from '../../errors';
import { readTestEnvelope } from '../../rules/read-test-envelope';
import { type TRuleTestResult, testRules } from '../../rules/test-rules';
import type { TDb } from '../../store/db';

// An uploaded test message is at most this large (scripts/server.mjs refuses a larger body first).
export const RULE_TEST_MAX_BYTES = 4 * 1024 * 1024;

export type RunRuleTestOptions = {
  db: TDb;
  tenantId: string;
  raw: Buffer;
  sender: string;
  recipients: string;
  maxRecipients: number;
};

export type TRuleTestOutcome = { kind: 'ok'; results: TRuleTestResult[] } | { kind: 'refused'; reason: string };

// "Test a message" in the console: the typed envelope checked, then the relay's own dry run
// (testRules: the strict header parse, bounded; the body only if a rule reads it). A message
// the relay would refuse is refused here with the relay's reason; nothing is stored or logged.
export async function runRuleTest({ db, tenantId, raw, sender, recipients, maxRecipients }: RunRuleTestOptions): Promise<TRuleTestOutcome> {
  try {
    const envelope = readTestEnvelope({ sender, recipients, maxRecipients });
    return { kind: 'ok', results: await testRules({ db, tenantId, raw, maxBytes: RULE_TEST_MAX_BYTES, envelope }) };
  } catch (error) {
    if (isAppError(error) && ['BAD_REQUEST', 'INVALID_RECIPIENTS', 'PAYLOAD_TOO_LARGE', 'NO_VALID_RECIPIENT'].includes(error.code))
      return { kind: 'refused', reason: error.message };
    throw error;
  }
}
