import 'server-only';
import type { TRuleTestOutcome } from '../rules/run-rule-test';
import { StaticAdminPage } from './static-admin-page';

export type RuleTestPageProps = { tenantName: string; fileName: string; outcome: TRuleTestOutcome };

const ACTIONS = { encrypt: 'Encrypt', pass: 'Send without encryption', reject: 'Reject' } as const;

// What the rules would do with an uploaded message, per recipient (the answer to "Test a
// message"; nothing of the message is kept).
export function RuleTestPage({ tenantName, fileName, outcome }: RuleTestPageProps) {
  return (
    <StaticAdminPage tenantName={tenantName} title="Rule test">
      <p>Message: {fileName || '(no name)'}</p>
      {outcome.kind === 'refused' ? (
        <p role="alert" className="alert">
          The message cannot be tested: {outcome.reason}
        </p>
      ) : outcome.results.length === 0 ? (
        <p>The message names no recipient.</p>
      ) : (
        <ul className="results">
          {outcome.results.map((r) => (
            <li key={r.recipient} data-recipient={r.recipient} data-action={r.action}>
              <dl>
                <dt>Recipient</dt>
                <dd>{r.recipient}</dd>
                <dt>Decision</dt>
                <dd>
                  {ACTIONS[r.action]}
                  {r.template ? ` with the template “${r.template}”` : ''}
                </dd>
                <dt>Decided by</dt>
                <dd>{r.rule ? `the rule “${r.rule}”` : 'no rule matched: the default action'}</dd>
                {r.subject !== undefined ? (
                  <>
                    <dt>Subject the recipient sees</dt>
                    <dd>{r.subject}</dd>
                  </>
                ) : null}
                {r.reply ? (
                  <>
                    <dt>The relay's reply</dt>
                    <dd>{r.reply}</dd>
                  </>
                ) : null}
              </dl>
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href="/admin/rules">Back to the rules</a>
      </p>
    </StaticAdminPage>
  );
}
