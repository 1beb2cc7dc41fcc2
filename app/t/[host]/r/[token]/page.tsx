import { redirect } from 'next/navigation';
import { ErrorAlert } from '@/lib/portal/error-alert';
import { BrandShell, BUTTON } from '@/lib/portal/brand-shell';
import { loadLanding } from '@/lib/portal/load-landing';
import { getPortalText } from '@/lib/i18n/portal-i18n';
import { loadTenantPage } from '@/lib/tenants/load-tenant-page';
import { getBranding } from '@/lib/tenants/tenants';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string; token: string }>; searchParams: Promise<{ error?: string }> };

// GET /r/<token> – the link in the wrapper mail: who wrote, and "Send me a passcode"
export default async function LandingPage({ params, searchParams }: TProps) {
  const { host, token } = await params;
  const { error } = await searchParams;
  const { ctx, tenant } = await loadTenantPage({ host });
  const landing = await loadLanding({ ctx, tenant, token });
  // Revoked, expired and damaged links have pages of their own, with their HTTP status.
  if (landing.state !== 'ready') redirect(`/r/${token}/gone`);
  // The message's own template: its branding and the sign-in methods it offers.
  const branding = await getBranding(ctx.db, tenant.id, landing.template);
  const { t, errorText: toErrorText } = await getPortalText();
  const errorText = toErrorText(error);
  const name = branding.displayName ?? tenant.name;
  return (
    <BrandShell branding={branding} tenantName={tenant.name} privacyLabel={t('privacy')}>
      <h1 className="text-2xl font-semibold">{t('landingTitle')}</h1>
      <p className="mt-4 break-words">{t('landingFrom', { sender: landing.sender, name })}</p>
      {branding.portalText ? <p className="mt-4 whitespace-pre-line">{branding.portalText}</p> : null}
      <ErrorAlert text={errorText} />
      {branding.signInMethods.passcode ? (
        <>
          <p className="mt-4">{t('landingHow')}</p>
          <form method="post" action={`/r/${token}/passcode`} className="mt-6">
            <button type="submit" className={BUTTON}>
              {t('sendPasscode')}
            </button>
          </form>
        </>
      ) : (
        <p className="mt-4">{t('noSignInMethod')}</p>
      )}
    </BrandShell>
  );
}
