import { listTenantKeys } from '@/lib/admin/list-tenant-keys';
import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_BUTTON, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ done?: string; error?: string }> };

// GET /admin/keys – the tenant key's versions with their dates; rotate
export default async function AdminKeysPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/keys' });
  const keys = await listTenantKeys({ db: ctx.db, tenantId: tenant.id });
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Keys</h1>
      <Notice {...(await searchParams)} />
      <p className="mt-2">New mail is sealed under the current version; older mail keeps the version it was sealed under.</p>
      <ul className="mt-4 divide-y divide-gray-300 border-y border-gray-300">
        {keys.map((k) => (
          <li key={k.version} className="py-3" data-key-version={k.version}>
            <p className="font-medium">
              Version {k.version}
              {k.isCurrent ? ' (current)' : ''}
            </p>
            <p className="text-sm">Created {new Date(k.createdAt).toISOString().replace('T', ' ').slice(0, 19)} UTC</p>
          </li>
        ))}
      </ul>
      {session.admin.role !== 'auditor' ? (
        <form method="post" action="/admin/keys/rotate" className="mt-6">
          <h2 className="text-lg font-semibold">Rotate</h2>
          <p className="mt-2">Makes a new version current. Sessions and links made under the previous one keep working for 12 hours.</p>
          <button type="submit" className={`${ADMIN_BUTTON} mt-3`}>
            Rotate the tenant key
          </button>
        </form>
      ) : null}
    </AdminShell>
  );
}
