import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';
import { listTemplates } from '@/lib/templates/list-templates';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ done?: string; error?: string }> };

// GET /admin/templates – the tenant's branding templates; open one, or start a new one
export default async function AdminTemplatesPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/templates' });
  const templates = await listTemplates({ db: ctx.db, tenantId: tenant.id });
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Branding templates</h1>
      <Notice {...(await searchParams)} />
      <ul className="mt-4 divide-y divide-gray-300 border-y border-gray-300">
        {templates.map((t) => (
          <li key={t.name} className="py-3">
            <a className="font-medium underline" href={`/admin/templates/edit?template=${encodeURIComponent(t.name)}`}>
              {t.name}
            </a>
            <p className="text-sm">Changed {new Date(t.updatedAt).toISOString().replace('T', ' ').slice(0, 16)} UTC</p>
          </li>
        ))}
      </ul>
      {session.admin.role !== 'auditor' ? (
        <form method="get" action="/admin/templates/edit" className="mt-6 flex max-w-md flex-wrap items-end gap-3">
          <div className="grow">
            <label htmlFor="new-template" className="font-medium">
              Name of a new template
            </label>
            <input id="new-template" name="template" required pattern="[a-z0-9][a-z0-9_\-]{0,39}" className={ADMIN_INPUT} />
          </div>
          <button type="submit" className={ADMIN_BUTTON}>
            New template
          </button>
        </form>
      ) : null}
    </AdminShell>
  );
}
