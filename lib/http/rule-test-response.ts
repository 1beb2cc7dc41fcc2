import 'server-only';
import { RuleTestPage, type RuleTestPageProps } from '../admin/ui/rule-test-page';
import { renderStaticHtml } from '../mail/templates/brand-header';
import { htmlResponse } from './html-response';

// The outcome of "Test a message", answered by the post itself (it made nothing to redirect to).
export async function ruleTestResponse(props: RuleTestPageProps): Promise<Response> {
  return htmlResponse(await renderStaticHtml(RuleTestPage(props)));
}
