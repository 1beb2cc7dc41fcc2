import { notFound } from 'next/navigation';
import { findLiveInvitation } from '@/lib/admin/find-invitation';
import { loadAdminSignInPage } from '@/lib/admin/load-admin-signin-page';
import { ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { PasskeyButton } from '@/lib/admin/ui/passkey-button';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string; token: string }> };

// GET /admin/invite/<token> – accept an invitation: register a passkey for this console
export default async function AdminInvitationPage({ params }: TProps) {
  const { host, token } = await params;
  const { ctx, tenant } = await loadAdminSignInPage({ host });
  // A wrong, used, expired or foreign link: the same 404.
  const invitation = await findLiveInvitation({ ctx, tenant, token });
  if (!invitation) notFound();
  return (
    <AdminShell tenantName={tenant.name}>
      <h1 className="text-2xl font-semibold">Become an admin of {tenant.name}</h1>
      <p className="mt-4 break-words">
        This invitation is for <strong>{invitation.email}</strong> as <strong>{invitation.role}</strong>. Register a passkey on this device
        to accept it; you sign in with it from then on. The link works once.
      </p>
      <noscript>
        <p className="mt-4 font-semibold">Passkeys need JavaScript: turn it on for this page to register one.</p>
      </noscript>
      <div className="mt-6 max-w-sm">
        <label htmlFor="passkey-name" className="font-medium">
          Name of this passkey
        </label>
        <input id="passkey-name" name="label" type="text" maxLength={60} defaultValue="My passkey" className={ADMIN_INPUT} />
      </div>
      <PasskeyButton
        mode="register"
        optionsUrl={`/admin/invite/${token}/options`}
        verifyUrl={`/admin/invite/${token}/verify`}
        label="Register a passkey"
        nameFieldId="passkey-name"
        failedText="The passkey could not be registered. Try again."
      />
    </AdminShell>
  );
}
