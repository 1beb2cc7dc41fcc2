import { listAdmins } from '@/lib/admin/list-admins';
import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';
import { PostButton } from '@/lib/admin/ui/post-button';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ done?: string; error?: string }> };

const ROLES = ['owner', 'admin', 'auditor'] as const;

// GET /admin/admins – who runs this console; an owner invites, changes roles and removes
export default async function AdminAdminsPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/admins' });
  const admins = await listAdmins({ db: ctx.db, tenantId: tenant.id });
  // Shown to owners only for convenience; every action checks the role itself (adminRoute).
  const isOwner = session.admin.role === 'owner';
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Admins</h1>
      <Notice {...(await searchParams)} />
      <ul className="mt-4 divide-y divide-gray-300 border-y border-gray-300">
        {admins.map((a) => (
          <li key={a.id} className="py-3">
            <p className="font-medium break-all">{a.email}</p>
            <p className="text-sm">
              Role: {a.role} · Passkeys: {a.passkeys}
            </p>
            {isOwner ? (
              <div className="mt-2 flex flex-wrap items-end gap-3">
                <form method="post" action="/admin/admins/role" className="flex flex-wrap items-end gap-2">
                  <input type="hidden" name="email" value={a.email} />
                  <div>
                    <label htmlFor={`role-${a.id}`} className="text-sm font-medium">
                      Role of {a.email}
                    </label>
                    <select id={`role-${a.id}`} name="role" defaultValue={a.role} className={ADMIN_INPUT}>
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  </div>
                  <button type="submit" className={ADMIN_BUTTON}>
                    Change role
                  </button>
                </form>
                <PostButton action="/admin/admins/remove" fields={{ email: a.email }} text="Remove" label={`Remove ${a.email}`} isDanger />
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      {isOwner ? (
        <form method="post" action="/admin/admins/invite" className="mt-6 grid max-w-md gap-3">
          <h2 className="text-lg font-semibold">Invite an admin</h2>
          <div>
            <label htmlFor="invite-email" className="font-medium">
              Email address
            </label>
            <input id="invite-email" name="email" type="email" required className={ADMIN_INPUT} />
          </div>
          <div>
            <label htmlFor="invite-role" className="font-medium">
              Role
            </label>
            <select id="invite-role" name="role" defaultValue="admin" className={ADMIN_INPUT}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </div>
          <div>
            <button type="submit" className={ADMIN_BUTTON}>
              Create invitation
            </button>
          </div>
        </form>
      ) : null}
    </AdminShell>
  );
}
