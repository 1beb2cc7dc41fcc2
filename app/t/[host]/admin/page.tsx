import { redirect } from 'next/navigation';
import { loadAdminSignInPage } from '@/lib/admin/load-admin-signin-page';
import { AdminShell } from '@/lib/admin/ui/admin-shell';
import { PasskeyButton } from '@/lib/admin/ui/passkey-button';
import { safeAdminNext } from '@/lib/http/admin-responses';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ next?: string; reverify?: string; 'signed-out'?: string }> };

// GET /admin – sign in to the tenant's console with a passkey (or confirm it is you again)
export default async function AdminSignInPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const query = await searchParams;
  const { tenant, session } = await loadAdminSignInPage({ host });
  const next = safeAdminNext(query.next);
  const isReverify = query.reverify === '1';
  if (session && !isReverify) redirect(next);
  return (
    <AdminShell tenantName={tenant.name}>
      <h1 className="text-2xl font-semibold">{isReverify ? 'Confirm it is you' : 'Sign in to the admin console'}</h1>
      {query['signed-out'] === '1' ? <p className="mt-4">You are signed out.</p> : null}
      <p className="mt-4">
        {isReverify
          ? 'This action needs a passkey check within the last 5 minutes. Use your passkey again to go on.'
          : 'Use the passkey you registered from your invitation.'}
      </p>
      <noscript>
        <p className="mt-4 font-semibold">Passkeys need JavaScript: turn it on for this page to sign in.</p>
      </noscript>
      <PasskeyButton
        mode="signin"
        optionsUrl="/admin/signin/options"
        verifyUrl="/admin/signin/verify"
        label={isReverify ? 'Confirm with passkey' : 'Sign in with passkey'}
        next={next}
        failedText="The passkey did not sign you in. Try again."
      />
    </AdminShell>
  );
}
