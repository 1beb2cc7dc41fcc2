import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';
import { PostButton } from '@/lib/admin/ui/post-button';
import { listRelayCredentials } from '@/lib/relay/relay-credentials';
import { listApiKeys } from '@/lib/tenants/list-api-keys';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ done?: string; error?: string }> };

const when = (at: number | string | null) => (at === null ? 'never' : `${new Date(at).toISOString().replace('T', ' ').slice(0, 16)} UTC`);

// GET /admin/credentials – API keys and relay credentials: create (shown once), last used, revoke
export default async function AdminCredentialsPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/credentials' });
  const apiKeys = await listApiKeys({ db: ctx.db, tenantId: tenant.id });
  const relay = await listRelayCredentials({ db: ctx.db, tenant });
  const canChange = session.admin.role !== 'auditor';
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">API keys and relay credentials</h1>
      <Notice {...(await searchParams)} />
      <h2 className="mt-6 text-lg font-semibold">API keys</h2>
      <ul className="mt-2 divide-y divide-gray-300 border-y border-gray-300">
        {apiKeys.map((k) => (
          <li key={k.id} className="py-3" data-api-key={k.prefix}>
            <p className="font-medium break-all">
              {k.name} ({k.prefix}…){k.isRevoked ? ' · revoked' : ''}
            </p>
            <p className="text-sm">
              Created {when(k.createdAt)} · Last used {when(k.lastUsedAt)}
            </p>
            {canChange && !k.isRevoked ? (
              <PostButton
                action="/admin/credentials/api-keys/revoke"
                fields={{ id: k.id }}
                text="Revoke"
                label={`Revoke API key ${k.name} (${k.prefix})`}
                isDanger
                className="mt-2"
              />
            ) : null}
          </li>
        ))}
      </ul>
      {canChange ? (
        <form method="post" action="/admin/credentials/api-keys" className="mt-4 flex max-w-md flex-wrap items-end gap-3">
          <div className="grow">
            <label htmlFor="api-key-label" className="font-medium">
              Label of the new key
            </label>
            <input id="api-key-label" name="label" type="text" maxLength={100} required className={ADMIN_INPUT} />
          </div>
          <button type="submit" className={ADMIN_BUTTON}>
            Create API key
          </button>
        </form>
      ) : null}
      <h2 className="mt-8 text-lg font-semibold">Relay credentials</h2>
      <ul className="mt-2 divide-y divide-gray-300 border-y border-gray-300">
        {relay.map((c) => (
          <li key={c.id} className="py-3">
            <p className="font-medium break-all">
              {c.username}
              {c.revoked ? ' · revoked' : ''}
            </p>
            <p className="text-sm">
              Created {when(c.createdAt)} · Last used {when(c.lastUsedAt)}
            </p>
            {canChange && !c.revoked ? (
              <PostButton
                action="/admin/credentials/relay/revoke"
                fields={{ username: c.username }}
                text="Revoke"
                label={`Revoke relay credential ${c.username}`}
                isDanger
                className="mt-2"
              />
            ) : null}
          </li>
        ))}
      </ul>
      {canChange ? (
        <form method="post" action="/admin/credentials/relay" className="mt-4">
          <button type="submit" className={ADMIN_BUTTON}>
            Create relay credential
          </button>
        </form>
      ) : null}
    </AdminShell>
  );
}
