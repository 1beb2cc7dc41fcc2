import { RULE_TEST_MAX_BYTES, runRuleTest } from '@/lib/admin/rules/run-rule-test';
import { AppError } from '@/lib/errors';
import { adminRoute } from '@/lib/http/admin-route';
import { readMultipartForm } from '@/lib/http/read-multipart-form';
import { ruleTestResponse } from '@/lib/http/rule-test-response';

export const runtime = 'nodejs';

// POST /admin/rules/test – what the rules would do with an uploaded .eml, per recipient; reads
// only, so every role may ask (an auditor reads the rules already)
export const POST = adminRoute<{ host: string }, { role: 'auditor' }>(
  async ({ request, ctx, tenant }) => {
    // The form's other fields are a few hundred bytes beside the message.
    const form = await readMultipartForm({ request, maxBytes: RULE_TEST_MAX_BYTES + 64 * 1024 });
    const file = form.get('message');
    if (!(file instanceof File) || file.size === 0) throw new AppError('BAD_REQUEST', 'Choose an .eml file to test.');
    const outcome = await runRuleTest({
      db: ctx.db,
      tenantId: tenant.id,
      raw: Buffer.from(await file.arrayBuffer()),
      sender: String(form.get('sender') ?? ''),
      recipients: String(form.get('recipients') ?? ''),
      maxRecipients: ctx.config.SEALPOST_MAX_RECIPIENTS,
    });
    return ruleTestResponse({ tenantName: tenant.name, fileName: file.name.slice(0, 200), outcome });
  },
  { access: { role: 'auditor' }, backTo: () => '/admin/rules', what: 'rule test' },
);
