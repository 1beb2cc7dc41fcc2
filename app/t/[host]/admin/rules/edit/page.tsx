import { notFound } from 'next/navigation';
import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { RULE_CONDITION_FIELDS, ruleFormProblems, ruleToForm, type TRuleFormValues } from '@/lib/admin/rules/rule-form';
import { ADMIN_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { loadRuleSet } from '@/lib/rules/rule-set-store';
import { listTemplates } from '@/lib/templates/list-templates';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const REFUSALS: Record<string, string> = {
  CONFLICT: 'Another rule already has that name.',
  BAD_REQUEST: 'The rule cannot be saved: a template it names may have been deleted. Check and save again.',
};

// GET /admin/rules/edit[?rule=<name>] – the form for a new rule or an existing one; after a refused
// save (?typed=1) it holds what was typed, with what is wrong with it
export default async function AdminRuleEditPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0]! : (v ?? '')]));
  const { ctx, tenant, session } = await loadAdminPage({ host, role: 'admin', path: '/admin/rules' });
  const [set, templates] = await Promise.all([
    loadRuleSet({ db: ctx.db, tenantId: tenant.id }),
    listTemplates({ db: ctx.db, tenantId: tenant.id }),
  ]);
  const stored = raw.rule ? set.rules.find((r) => r.name.toLowerCase() === raw.rule!.toLowerCase()) : undefined;
  if (raw.rule && !stored && raw.typed !== '1') notFound();
  const values: TRuleFormValues | null =
    raw.typed === '1' ? raw : stored ? ruleToForm(stored) : { action: 'encrypt', template: 'default', enabled: 'on' };
  const problems = raw.typed === '1' ? ruleFormProblems(raw) : [];
  const refusal = raw.error ? (problems.length ? null : (REFUSALS[raw.error] ?? 'The rule cannot be saved.')) : null;
  const title = values?.original ? `Edit rule “${values.original}”` : 'Add a rule';
  const field = (name: string, label: string, kind: 'bool' | 'list' | 'lines' | 'bytes' | 'text') => (
    <div key={name}>
      {kind === 'bool' ? (
        <label className="flex min-h-11 items-center gap-3">
          <input type="checkbox" name={name} defaultChecked={values?.[name] === 'on'} className="h-5 w-5" />
          <span>{label}</span>
        </label>
      ) : (
        <>
          <label htmlFor={`r-${name}`} className="font-medium">
            {label}
          </label>
          {kind === 'list' || kind === 'lines' ? (
            <textarea id={`r-${name}`} name={name} rows={2} defaultValue={values?.[name] ?? ''} className={ADMIN_INPUT} />
          ) : (
            <input
              id={`r-${name}`}
              name={name}
              inputMode={kind === 'bytes' ? 'numeric' : undefined}
              defaultValue={values?.[name] ?? ''}
              className={ADMIN_INPUT}
            />
          )}
        </>
      )}
    </div>
  );
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold break-all">{title}</h1>
      {problems.length || refusal ? (
        <div role="alert" className="mt-4 rounded-md border border-red-800 p-3 text-red-800">
          <p>{refusal ?? 'The rule was not saved:'}</p>
          <ul className="list-disc pl-6">
            {problems.map((p) => (
              <li key={p} className="break-words">
                {p}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {values === null ? (
        <p className="mt-4">
          This rule has several conditions of one kind (it was imported), which this form would merge. Change it with{' '}
          <code>sealpost rules export</code> and <code>sealpost rules import</code>.
        </p>
      ) : (
        <form method="post" action="/admin/rules/save" className="mt-4 grid max-w-2xl gap-4">
          <input type="hidden" name="original" value={values.original ?? ''} />
          {field('name', 'Name', 'text')}
          {field('enabled', 'Enabled', 'bool')}
          <fieldset className="grid gap-3 rounded-md border border-gray-400 p-3">
            <legend className="font-semibold">Apply this rule if (every condition filled in holds; none: every message)</legend>
            {RULE_CONDITION_FIELDS.map((f) => field(f.flag, f.label, f.kind))}
          </fieldset>
          <details className="rounded-md border border-gray-400 p-3" open={RULE_CONDITION_FIELDS.some((f) => values[`not-${f.flag}`])}>
            <summary className="min-h-11 cursor-pointer py-2 font-semibold">Except if (any of these holds)</summary>
            <div className="grid gap-3">{RULE_CONDITION_FIELDS.map((f) => field(`not-${f.flag}`, f.label, f.kind))}</div>
          </details>
          <fieldset className="grid gap-3 rounded-md border border-gray-400 p-3">
            <legend className="font-semibold">Then</legend>
            <div>
              <label htmlFor="r-action" className="font-medium">
                Action
              </label>
              <select id="r-action" name="action" defaultValue={values.action ?? 'encrypt'} className={ADMIN_INPUT}>
                <option value="encrypt">Encrypt</option>
                <option value="pass">Send without encryption</option>
                <option value="reject">Reject</option>
              </select>
            </div>
            <div>
              <label htmlFor="r-template" className="font-medium">
                Template (when encrypting)
              </label>
              <select id="r-template" name="template" defaultValue={values.template ?? 'default'} className={ADMIN_INPUT}>
                {templates.map((t) => (
                  <option key={t.name} value={t.name}>
                    {t.name}
                  </option>
                ))}
              </select>
            </div>
            {field('remove-keyword', 'Remove the matched subject keyword (when encrypting)', 'bool')}
            {field('reject-text', 'Reply text (when rejecting; sent as “550 5.7.1 …”)', 'text')}
            {field('stop', 'Stop: no later rule applies to a recipient this rule matched', 'bool')}
          </fieldset>
          <div className="flex flex-wrap items-center gap-3">
            <button type="submit" className={ADMIN_BUTTON}>
              Save rule
            </button>
            <a className="underline" href="/admin/rules">
              Cancel
            </a>
          </div>
        </form>
      )}
    </AdminShell>
  );
}
