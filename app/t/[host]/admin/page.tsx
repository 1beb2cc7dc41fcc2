import { redirect } from 'next/navigation';
import { loadAdminSignInPage } from '@/lib/admin/load-admin-signin-page';
import { ADMIN_BUTTON, AdminShell } from '@/lib/admin/ui/admin-shell';
import { PasskeyButton } from '@/lib/admin/ui/passkey-button';
import { listIdentityProviders } from '@/lib/auth/federated/tenant-identity-providers';
import { safeAdminNext } from '@/lib/http/admin-responses';

export const dynamic = 'force-dynamic';

type TProps = {
  params: Promise<{ host: string }>;
  searchParams: Promise<{ next?: string; reverify?: string; 'signed-out'?: string; refused?: string; error?: string }>;
};

// Why a provider's sign-in did not sign anyone in (?refused=… from /admin/oidc/complete).
const REFUSED: Record<string, string> = {
  not_admin: 'The identity provider signed you in with an address that is not an admin of this console. Nothing was opened.',
  unverified: 'The identity provider did not confirm that your email address is verified, so it cannot sign you in here.',
  unusable: 'That sign-in cannot be used any more (it expired, was used, or began in another browser). Start again.',
};

// GET /admin – sign in to the tenant's console with a passkey (or confirm it is you again)
export default async function AdminSignInPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const query = await searchParams;
  const { ctx, tenant, session } = await loadAdminSignInPage({ host });
  const providers = (await listIdentityProviders({ ctx, tenant })).filter((p) => p.forAdmins);
  const refusal = query.refused
    ? (REFUSED[query.refused] ?? REFUSED.unusable)
    : query.error === 'FEDERATED_FAILED'
      ? REFUSED.unusable
      : null;
  const next = safeAdminNext(query.next);
  const isReverify = query.reverify === '1';
  if (session && !isReverify) redirect(next);
  return (
    <AdminShell tenantName={tenant.name}>
      <h1 className="text-2xl font-semibold">{isReverify ? 'Confirm it is you' : 'Sign in to the admin console'}</h1>
      {query['signed-out'] === '1' ? <p className="mt-4">You are signed out.</p> : null}
      {refusal ? (
        <p role="alert" className="mt-4 rounded-md border border-red-800 p-3 text-red-800">
          {refusal}
        </p>
      ) : null}
      <p className="mt-4">
        {isReverify
          ? `This action needs a passkey check (or a sign-in at your identity provider) within the last 5 minutes. ${providers.length > 0 ? 'Use either again' : 'Use your passkey again'} to go on.`
          : `Use the passkey you registered from your invitation${providers.length > 0 ? ', or your organisation’s sign-in' : ''}.`}
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
      {providers.map((p) => (
        <form key={p.id} method="post" action="/admin/oidc" className="mt-4">
          <input type="hidden" name="provider" value={p.id} />
          <input type="hidden" name="next" value={next} />
          {isReverify ? <input type="hidden" name="reverify" value="1" /> : null}
          <button type="submit" className={ADMIN_BUTTON}>
            {isReverify ? `Confirm with ${p.displayName}` : `Sign in with ${p.displayName}`}
          </button>
        </form>
      ))}
    </AdminShell>
  );
}
