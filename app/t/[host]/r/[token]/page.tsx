import { BrandShell, BUTTON } from '@/lib/portal/brand-shell';
import { loadLanding } from '@/lib/portal/load-landing';
import { portalErrorText } from '@/lib/portal/portal-errors';
import { loadTenantPage } from '@/lib/tenants/load-tenant-page';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string; token: string }>; searchParams: Promise<{ error?: string }> };

// GET /r/<token> – the link in the wrapper mail: who wrote, and "Send me a passcode"
export default async function LandingPage({ params, searchParams }: TProps) {
  const { host, token } = await params;
  const { error } = await searchParams;
  const { ctx, tenant, branding } = await loadTenantPage({ host });
  const landing = await loadLanding({ ctx, tenant, token });
  const errorText = portalErrorText(error);
  return (
    <BrandShell branding={branding} tenantName={tenant.name}>
      {landing.state === 'ready' ? (
        <>
          <h1 className="text-2xl font-semibold">You have an encrypted message</h1>
          <p className="mt-4 break-words">{`${landing.sender} sent you a message protected by ${branding.displayName ?? tenant.name}.`}</p>
          {branding.portalText ? <p className="mt-4 whitespace-pre-line">{branding.portalText}</p> : null}
          <p className="mt-4">To read it, we will email a one-time passcode to the address it was sent to.</p>
          {errorText ? (
            <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 p-3 text-red-900">
              {errorText}
            </p>
          ) : null}
          <form method="post" action={`/r/${token}/passcode`} className="mt-6">
            <button type="submit" className={BUTTON}>
              Send me a passcode
            </button>
          </form>
        </>
      ) : landing.state === 'revoked' ? (
        <>
          <h1 className="text-2xl font-semibold">This message was revoked</h1>
          <p className="mt-4 break-words">{`${landing.sender} revoked this message. It can no longer be read. Contact the sender if you still need it.`}</p>
        </>
      ) : landing.state === 'expired' ? (
        <>
          <h1 className="text-2xl font-semibold">This message has expired</h1>
          <p className="mt-4 break-words">{`This message from ${landing.sender} has expired and can no longer be read. Contact the sender if you still need it.`}</p>
        </>
      ) : (
        <>
          <h1 className="text-2xl font-semibold">This link cannot be used</h1>
          <p className="mt-4">The link is incomplete or damaged. Open it again from the email you received, or open the email&apos;s message.html attachment.</p>
        </>
      )}
    </BrandShell>
  );
}
