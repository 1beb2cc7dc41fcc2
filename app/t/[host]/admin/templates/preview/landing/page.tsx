import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { loadStoredTemplate } from '@/lib/admin/templates/load-stored-template';
import { previewBranding } from '@/lib/admin/templates/preview-branding';
import { getPortalText } from '@/lib/i18n/portal-i18n';
import { BrandShell, BUTTON } from '@/lib/portal/ui/brand-shell';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

// GET /admin/templates/preview/landing?<form values> – the portal's landing page (its own frame
// and texts) in the values typed, framed by the template page
export default async function TemplateLandingPreview({ params, searchParams }: TProps) {
  const { host } = await params;
  const raw = Object.entries(await searchParams).flatMap(([k, v]) =>
    Array.isArray(v) ? v.map((x) => [k, x]) : v === undefined ? [] : [[k, v]],
  );
  const query = new URLSearchParams(raw as [string, string][]);
  const { ctx, tenant } = await loadAdminPage({ host, path: '/admin/templates' });
  const stored = await loadStoredTemplate({ db: ctx.db, tenantId: tenant.id, template: query.get('template') ?? '' });
  const draft = previewBranding({ query, stored });
  const { t } = await getPortalText();
  if (draft.kind === 'invalid')
    return (
      <main className="p-4">
        <h1 className="text-lg font-semibold">No preview</h1>
        <ul className="list-disc pl-6">
          {draft.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      </main>
    );
  const { branding } = draft;
  const name = branding.look.displayName ?? tenant.name;
  return (
    <BrandShell branding={branding} tenantName={tenant.name} privacyLabel={t('privacy')}>
      <h1 className="text-2xl font-semibold">{t('landingTitle')}</h1>
      <p className="mt-4 break-words">{t('landingFrom', { sender: `alice@${tenant.mail_domain}`, name })}</p>
      {branding.look.portalText ? <p className="mt-4 whitespace-pre-line">{branding.look.portalText}</p> : null}
      {branding.policy.signInMethods.passcode ? (
        <p className="mt-6">
          <span className={BUTTON}>{t('sendPasscode')}</span>
        </p>
      ) : null}
    </BrandShell>
  );
}
