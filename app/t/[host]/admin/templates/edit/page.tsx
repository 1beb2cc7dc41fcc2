import { notFound } from 'next/navigation';
import { loadAdminPage } from '@/lib/admin/load-admin-page';
import {
  brandingToForm,
  COLOUR_FIELDS,
  POLICY_CHECKBOXES,
  RESTRICTION_CHOICES,
  SMIME_CHOICES,
  TEXT_FIELDS,
} from '@/lib/admin/templates/branding-form';
import { isContrastEnough } from '@/lib/admin/templates/contrast';
import { loadStoredTemplate } from '@/lib/admin/templates/load-stored-template';
import { previewBranding } from '@/lib/admin/templates/preview-branding';
import { ADMIN_BUTTON, ADMIN_DANGER_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { LivePreview } from '@/lib/admin/ui/live-preview';
import { listIdentityProviders } from '@/lib/auth/federated/tenant-identity-providers';
import { Notice } from '@/lib/admin/ui/notice';
import { DEFAULT_TEMPLATE, LANGUAGES, ZBranding, ZTemplateName } from '@/lib/templates/schema';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

// GET /admin/templates/edit?template=<name> – every field of a template, beside a preview of the
// real wrapper mail and portal landing page (?preview=1: the values typed, without JavaScript)
export default async function AdminTemplateEditPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0]! : (v ?? '')]));
  const template = raw.template ?? '';
  const isName = ZTemplateName.safeParse(template).success;
  const { ctx, tenant, session } = await loadAdminPage({
    host,
    path: isName ? `/admin/templates/edit?template=${template}` : '/admin/templates',
  });
  if (!isName) notFound();
  const stored = await loadStoredTemplate({ db: ctx.db, tenantId: tenant.id, template });
  const values = raw.preview === '1' ? raw : brandingToForm(stored ?? ZBranding.parse({}));
  const query = new URLSearchParams({ ...values, template, preview: '1' });
  const draft = previewBranding({ query, stored });
  const look = draft.kind === 'ok' ? draft.branding.look : null;
  const canChange = session.admin.role !== 'auditor';
  const providerNames = (await listIdentityProviders({ ctx, tenant })).map((p) => p.name);
  const frames = [
    { id: 'preview-mail', path: '/admin/templates/preview/mail', title: 'Preview of the wrapper mail' },
    { id: 'preview-landing', path: '/admin/templates/preview/landing', title: 'Preview of the portal landing page' },
  ];
  const checkbox = (name: string, label: string) => (
    <label key={name} className="flex min-h-11 items-center gap-3">
      <input type="checkbox" name={name} defaultChecked={values[name] === 'on'} className="h-5 w-5" />
      <span>{label}</span>
    </label>
  );
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold break-all">Template “{template}”</h1>
      <Notice done={raw.done} error={raw.error} />
      {draft.kind === 'invalid' ? (
        <div role="alert" className="mt-4 rounded-md border border-red-800 p-3 text-red-800">
          <p>These values cannot be saved:</p>
          <ul className="list-disc pl-6">
            {draft.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {look && !isContrastEnough(look.buttonTextColour, look.primaryColour) ? (
        <p role="status" className="mt-4 rounded-md border border-amber-700 p-3">
          Warning: the button text colour on the brand colour fails WCAG AA contrast (4.5:1).
        </p>
      ) : null}
      <div className="mt-4 grid gap-6 lg:grid-cols-2">
        <form id="template-form" method="post" action="/admin/templates/save" encType="multipart/form-data" className="grid gap-3">
          <input type="hidden" name="template" value={template} />
          {TEXT_FIELDS.map((f) => (
            <div key={f.name}>
              <label htmlFor={`t-${f.name}`} className="font-medium">
                {f.label}
              </label>
              {f.isLong ? (
                <textarea
                  id={`t-${f.name}`}
                  name={f.name}
                  maxLength={f.max}
                  rows={3}
                  defaultValue={values[f.name] ?? ''}
                  className={ADMIN_INPUT}
                />
              ) : (
                <input id={`t-${f.name}`} name={f.name} maxLength={f.max} defaultValue={values[f.name] ?? ''} className={ADMIN_INPUT} />
              )}
            </div>
          ))}
          {COLOUR_FIELDS.map((f) => (
            <div key={f.name}>
              <label htmlFor={`t-${f.name}`} className="font-medium">
                {f.label}
              </label>
              <input
                id={`t-${f.name}`}
                name={f.name}
                type="color"
                defaultValue={values[f.name] ?? '#1f4e79'}
                className="mt-1 block h-11 w-24"
              />
            </div>
          ))}
          <div>
            <label htmlFor="t-logoUrl" className="font-medium">
              Logo URL (https), or upload one below
            </label>
            <input id="t-logoUrl" name="logoUrl" defaultValue={values.logoUrl ?? ''} className={ADMIN_INPUT} />
          </div>
          <div>
            <label htmlFor="t-logoFile" className="font-medium">
              Upload a logo (PNG, JPEG or WebP, at most 100 KB)
            </label>
            <input
              id="t-logoFile"
              name="logoFile"
              type="file"
              accept="image/png,image/jpeg,image/webp"
              className="mt-1 block min-h-11 w-full"
            />
          </div>
          {checkbox('removeLogo', 'Remove the logo')}
          {checkbox('hideSubject', 'Hide the subject in the wrapper mail')}
          <div>
            <label htmlFor="t-language" className="font-medium">
              Language
            </label>
            <select id="t-language" name="language" defaultValue={values.language ?? 'en'} className={ADMIN_INPUT}>
              {LANGUAGES.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <fieldset className="grid gap-1">
            <legend className="font-medium">Policy</legend>
            {POLICY_CHECKBOXES.map((f) => checkbox(f.name, f.label))}
          </fieldset>
          <div>
            <label htmlFor="t-restrictions" className="font-medium">
              Usage restrictions
            </label>
            <select
              id="t-restrictions"
              name="restrictions"
              defaultValue={values.restrictions ?? 'none'}
              aria-describedby="t-restrictions-help"
              className={ADMIN_INPUT}
            >
              {RESTRICTION_CHOICES.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
            <dl id="t-restrictions-help" className="mt-1 grid gap-1 text-sm text-gray-700">
              {RESTRICTION_CHOICES.map((r) => (
                <div key={r.value}>
                  <dt className="inline font-medium">{r.label}: </dt>
                  <dd className="inline">{r.help}</dd>
                </div>
              ))}
            </dl>
          </div>
          <div>
            <label htmlFor="t-smime" className="font-medium">
              S/MIME
            </label>
            <select id="t-smime" name="smime" defaultValue={values.smime ?? 'off'} className={ADMIN_INPUT}>
              {SMIME_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="t-oidc" className="font-medium">
              The tenant's own identity providers offered (names, comma-separated)
            </label>
            <input id="t-oidc" name="oidc" aria-describedby="t-oidc-known" defaultValue={values.oidc ?? ''} className={ADMIN_INPUT} />
            <p id="t-oidc-known" className="mt-1 text-sm break-words">
              {providerNames.length > 0
                ? `This tenant's providers: ${providerNames.join(', ')}.`
                : 'This tenant has no provider of its own yet.'}{' '}
              <a className="underline" href="/admin/identity-providers">
                Identity providers
              </a>
            </p>
          </div>
          <div>
            <label htmlFor="t-expiryDays" className="font-medium">
              Expiry in days (empty: never)
            </label>
            <input id="t-expiryDays" name="expiryDays" inputMode="numeric" defaultValue={values.expiryDays ?? ''} className={ADMIN_INPUT} />
          </div>
          <div className="flex flex-wrap gap-3">
            <button
              type="submit"
              formMethod="get"
              formAction="/admin/templates/edit"
              name="preview"
              value="1"
              formEncType="application/x-www-form-urlencoded"
              className={ADMIN_BUTTON}
            >
              Preview
            </button>
            {canChange ? (
              <button type="submit" className={ADMIN_BUTTON}>
                Save template
              </button>
            ) : null}
          </div>
        </form>
        <div className="grid gap-4">
          {frames.map((f) => (
            <iframe
              key={f.id}
              id={f.id}
              title={f.title}
              sandbox=""
              src={`${f.path}?${query.toString()}`}
              className="h-96 w-full rounded-md border border-gray-400 bg-white"
            />
          ))}
        </div>
      </div>
      <LivePreview formId="template-form" frames={frames.map(({ id, path }) => ({ id, path }))} />
      {canChange && stored && template !== DEFAULT_TEMPLATE ? (
        <form method="post" action="/admin/templates/delete" className="mt-6">
          <input type="hidden" name="template" value={template} />
          <button type="submit" className={ADMIN_DANGER_BUTTON}>
            Delete template
          </button>
        </form>
      ) : null}
    </AdminShell>
  );
}
