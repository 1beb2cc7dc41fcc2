import { ErrorAlert } from '@/lib/portal/ui/error-alert';
import { BrandShell, BUTTON } from '@/lib/portal/ui/brand-shell';
import { loadLinkPage } from '@/lib/portal/load-link-page';
import { getPortalText } from '@/lib/i18n/portal-i18n';
import { maskAddress } from '@/lib/portal/request-guards';
import { redirect } from 'next/navigation';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string; token: string }>; searchParams: Promise<{ ref?: string; error?: string }> };

// GET /r/<token>/verify – where the recipient types the passcode
export default async function VerifyPage({ params, searchParams }: TProps) {
  const { host, token } = await params;
  const { ref, error } = await searchParams;
  const { tenant, landing, branding } = await loadLinkPage({ host, token });
  // Passcodes turned off for this message's template: the landing page says how to sign in.
  if (!branding.policy.signInMethods.passcode) redirect(`/r/${token}`);
  const reference = ref && /^[A-Z2-9]{4}$/.test(ref) ? ref : null;
  const { t, errorText: toErrorText } = await getPortalText();
  const errorText = toErrorText(error);
  return (
    <BrandShell branding={branding} tenantName={tenant.name} privacyLabel={t('privacy')}>
      <h1 className="text-2xl font-semibold">{t('verifyTitle')}</h1>
      <p className="mt-4 break-words">{t('verifySent', { address: maskAddress(landing.address) })}</p>
      {reference ? <p className="mt-2">{t('reference', { reference })}</p> : null}
      <ErrorAlert text={errorText} />
      <form method="post" action={`/r/${token}/signin`} className="mt-6 space-y-4">
        <div>
          <label htmlFor="passcode" className="block font-medium">
            {t('passcode')}
          </label>
          <input
            id="passcode"
            name="passcode"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9 ]{8,9}"
            maxLength={9}
            required
            className="mt-1 block min-h-11 w-full max-w-xs rounded-md border border-gray-400 px-3 py-2 text-lg tracking-widest"
          />
        </div>
        <label className="flex min-h-11 items-center gap-3">
          <input type="checkbox" name="keep" value="1" className="h-5 w-5" />
          <span>{t('keepSignedIn')}</span>
        </label>
        <button type="submit" className={BUTTON}>
          {t('signIn')}
        </button>
      </form>
      {/* Shown after ten seconds with no script: a CSS animation reveals it. */}
      <p className="mt-6 text-gray-700 [animation:sealpost-reveal_0s_10s_forwards] opacity-0">{t('spamHint')}</p>
      <form method="post" action={`/r/${token}/passcode`} className="mt-2">
        <button type="submit" className="min-h-11 underline">
          {t('newPasscode')}
        </button>
      </form>
    </BrandShell>
  );
}
