import { listPasskeys } from '@/lib/admin/list-passkeys';
import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';
import { PostButton } from '@/lib/admin/ui/post-button';
import { PasskeyButton } from '@/lib/admin/ui/passkey-button';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ done?: string; error?: string }> };

const when = (at: number | null) => (at === null ? 'never' : `${new Date(at).toISOString().replace('T', ' ').slice(0, 16)} UTC`);

// GET /admin/passkeys – the signed-in admin's own passkeys: add another, remove one (not the last)
export default async function AdminPasskeysPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/passkeys' });
  const passkeys = await listPasskeys({ db: ctx.db, adminId: session.admin.id });
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Your passkeys</h1>
      <Notice {...(await searchParams)} />
      <ul className="mt-4 divide-y divide-gray-300 border-y border-gray-300">
        {passkeys.map((p) => (
          <li key={p.id} className="py-3" data-passkey={p.label}>
            <p className="font-medium break-all">{p.label}</p>
            <p className="text-sm">
              Added {when(p.createdAt)} · Last used {when(p.lastUsedAt)}
            </p>
            {passkeys.length > 1 ? (
              <PostButton
                action="/admin/passkeys/remove"
                fields={{ id: p.id }}
                text="Remove"
                label={`Remove passkey ${p.label}`}
                isDanger
                className="mt-2"
              />
            ) : null}
          </li>
        ))}
      </ul>
      <h2 className="mt-6 text-lg font-semibold">Add a passkey</h2>
      <p className="mt-2">Another device or security key; any of them signs you in.</p>
      <noscript>
        <p className="mt-2 font-semibold">Passkeys need JavaScript: turn it on for this page to add one.</p>
      </noscript>
      <div className="mt-3 max-w-sm">
        <label htmlFor="passkey-name" className="font-medium">
          Name of the new passkey
        </label>
        <input id="passkey-name" name="label" type="text" maxLength={60} defaultValue="Another passkey" className={ADMIN_INPUT} />
      </div>
      <PasskeyButton
        mode="register"
        optionsUrl="/admin/passkeys/options"
        verifyUrl="/admin/passkeys/verify"
        label="Add a passkey"
        nameFieldId="passkey-name"
        failedText="The passkey could not be added. Try again."
      />
    </AdminShell>
  );
}
