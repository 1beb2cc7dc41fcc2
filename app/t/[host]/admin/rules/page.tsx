import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { RULE_TEST_MAX_BYTES } from '@/lib/admin/rules/run-rule-test';
import { ADMIN_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';
import { PostButton } from '@/lib/admin/ui/post-button';
import { describeRule } from '@/lib/rules/describe-rule';
import { loadRuleSet } from '@/lib/rules/rule-set-store';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ done?: string; error?: string }> };

// GET /admin/rules – the tenant's mail-flow rules in priority order, in plain words; add, edit,
// move and remove (admin or owner), and test a message against them (every role)
export default async function AdminRulesPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/rules' });
  const set = await loadRuleSet({ db: ctx.db, tenantId: tenant.id });
  const canChange = session.admin.role !== 'auditor';
  const fallback =
    set.defaultAction.kind === 'encrypt' ? `encrypt with the template “${set.defaultAction.template}”` : 'send without encryption';
  const moveForm = (name: string, to: number, text: string) => (
    <PostButton action="/admin/rules/move" fields={{ name, to }} text={text} label={`${text}: ${name}`} />
  );
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Mail-flow rules</h1>
      <Notice {...(await searchParams)} />
      <p className="mt-2">
        Every message the relay takes is matched against these rules, first to last, for each recipient. When none matches: {fallback}.
        Inside the organisation: {[tenant.mail_domain, ...set.internalDomains].join(', ')}.
      </p>
      {set.rules.length === 0 ? (
        <p className="mt-4">No rules yet.</p>
      ) : (
        <ol className="mt-4 divide-y divide-gray-300 border-y border-gray-300">
          {set.rules.map((rule, i) => (
            <li key={rule.name} className="py-3" data-rule={rule.name}>
              <p className="font-medium break-all">
                {i + 1}. {rule.name}
                {rule.enabled ? '' : ' (disabled)'}
              </p>
              <p className="mt-1 break-words">{describeRule(rule)}</p>
              {canChange ? (
                <div className="mt-2 flex flex-wrap items-center gap-3">
                  {i > 0 ? moveForm(rule.name, i, 'Move up') : null}
                  {i < set.rules.length - 1 ? moveForm(rule.name, i + 2, 'Move down') : null}
                  <a
                    className={ADMIN_BUTTON}
                    href={`/admin/rules/edit?rule=${encodeURIComponent(rule.name)}`}
                    aria-label={`Edit ${rule.name}`}
                  >
                    Edit
                  </a>
                  <PostButton
                    action="/admin/rules/remove"
                    fields={{ name: rule.name }}
                    text="Remove"
                    label={`Remove ${rule.name}`}
                    isDanger
                  />
                </div>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      {canChange ? (
        <p className="mt-4">
          <a className={ADMIN_BUTTON} href="/admin/rules/edit">
            Add a rule
          </a>
        </p>
      ) : null}
      <form method="post" action="/admin/rules/test" encType="multipart/form-data" className="mt-8 grid max-w-xl gap-3">
        <h2 className="text-lg font-semibold">Test a message</h2>
        <p>What these rules would do with a message, per recipient. Nothing is sent or kept.</p>
        <div>
          <label htmlFor="test-message" className="font-medium">
            The message (.eml, at most {RULE_TEST_MAX_BYTES / 1024 / 1024} MB)
          </label>
          <input
            id="test-message"
            name="message"
            type="file"
            accept=".eml,message/rfc822"
            required
            className="mt-1 block min-h-11 w-full"
          />
        </div>
        <div>
          <label htmlFor="test-sender" className="font-medium">
            Envelope sender (MAIL FROM; empty: the From address)
          </label>
          <input id="test-sender" name="sender" type="email" className={ADMIN_INPUT} />
        </div>
        <div>
          <label htmlFor="test-recipients" className="font-medium">
            Envelope recipients (RCPT TO, one a line; empty: To, Cc and Bcc)
          </label>
          <textarea id="test-recipients" name="recipients" rows={3} className={ADMIN_INPUT} />
        </div>
        <div>
          <button type="submit" className={ADMIN_BUTTON}>
            Test the message
          </button>
        </div>
      </form>
    </AdminShell>
  );
}
