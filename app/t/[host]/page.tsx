import { getPortalText } from '@/lib/i18n/portal-i18n';
import { BrandShell } from '@/lib/portal/ui/brand-shell';
import { loadTenantPage } from '@/lib/tenants/load-tenant-page';

export const dynamic = 'force-dynamic';

// GET / on a tenant host – the branded portal's front door
export default async function TenantHomePage({ params }: { params: Promise<{ host: string }> }) {
  const { tenant, branding } = await loadTenantPage({ host: (await params).host });
  const { t } = await getPortalText();
  const name = branding.look.displayName ?? tenant.name;
  return (
    <BrandShell branding={branding} tenantName={tenant.name} privacyLabel={t('privacy')}>
      <h1 className="text-2xl font-semibold">{t('homeTitle', { name })}</h1>
      {branding.look.portalText ? <p className="mt-4 whitespace-pre-line">{branding.look.portalText}</p> : null}
      <p className="mt-4">{t('homeBody')}</p>
    </BrandShell>
  );
}
