import { ErrorAlert } from '@/lib/portal/ui/error-alert';
import { listOfferedProviders } from '@/lib/auth/federated/identity-providers';
import { BrandShell, BUTTON, SECONDARY_BUTTON } from '@/lib/portal/ui/brand-shell';
import { loadLinkPage } from '@/lib/portal/load-link-page';
import { getPortalText } from '@/lib/i18n/portal-i18n';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string; token: string }>; searchParams: Promise<{ error?: string }> };

// GET /r/<token> – the link in the wrapper mail: who wrote, and the ways to sign in it offers
export default async function LandingPage({ params, searchParams }: TProps) {
  const { host, token } = await params;
  const { error } = await searchParams;
  // The message's own template: its branding and the sign-in methods it offers.
  const { ctx, tenant, landing, branding } = await loadLinkPage({ host, token });
  const providers = await listOfferedProviders({ ctx, tenant, branding });
  const { t, errorText: toErrorText } = await getPortalText();
  const errorText = toErrorText(error);
  const name = branding.look.displayName ?? tenant.name;
  return (
    <BrandShell branding={branding} tenantName={tenant.name} privacyLabel={t('privacy')}>
      <h1 className="text-2xl font-semibold">{t('landingTitle')}</h1>
      <p className="mt-4 break-words">{t('landingFrom', { sender: landing.sender, name })}</p>
      {branding.look.portalText ? <p className="mt-4 whitespace-pre-line">{branding.look.portalText}</p> : null}
      <ErrorAlert text={errorText} />
      {providers.length > 0 ? (
        <form method="post" action={`/r/${token}/federated`} className="mt-6">
          <h2 className="text-lg font-semibold">{t('signInChoose')}</h2>
          <label className="mt-2 flex min-h-11 items-center gap-3">
            <input type="checkbox" name="keep" value="1" className="h-5 w-5" />
            <span>{t('keepSignedIn')}</span>
          </label>
          <div className="mt-2 flex flex-col gap-3 sm:max-w-sm">
            {providers.map((p) => (
              <button key={p.id} type="submit" name="provider" value={p.id} className={BUTTON}>
                {t('signInWith', { provider: p.label })}
              </button>
            ))}
          </div>
        </form>
      ) : null}
      {branding.policy.signInMethods.passcode ? (
        <>
          <p className="mt-6">{t(providers.length > 0 ? 'landingHowOr' : 'landingHow')}</p>
          <form method="post" action={`/r/${token}/passcode`} className="mt-4">
            <button type="submit" className={providers.length > 0 ? SECONDARY_BUTTON : BUTTON}>
              {t('sendPasscode')}
            </button>
          </form>
        </>
      ) : null}
      {!branding.policy.signInMethods.passcode && providers.length === 0 ? <p className="mt-4">{t('noSignInMethod')}</p> : null}
    </BrandShell>
  );
}
