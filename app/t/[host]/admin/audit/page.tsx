import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { listAuditEvents, ZAuditSearch } from '@/lib/admin/list-audit-events';
import { AdminShell } from '@/lib/admin/ui/admin-shell';
import { FilterForm } from '@/lib/admin/ui/filter-form';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const FIELDS = [
  { name: 'type', label: 'Event', type: 'text' },
  { name: 'address', label: 'Address', type: 'email' },
  { name: 'message', label: 'Message id', type: 'text' },
  { name: 'from', label: 'On or after', type: 'date' },
  { name: 'to', label: 'On or before', type: 'date' },
] as const;

// GET /admin/audit – every event of the tenant, newest first, filtered; exports of the same
export default async function AdminAuditPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/audit' });
  const search = ZAuditSearch.parse(
    Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])),
  );
  const { items, nextAfter } = await listAuditEvents({ db: ctx.db, tenantId: tenant.id, search });
  const query = (extra: Record<string, string>) =>
    new URLSearchParams(
      Object.entries({ ...search, after: undefined, ...extra }).filter(
        (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
      ),
    ).toString();
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Audit log</h1>
      <FilterForm action="/admin/audit" label="Filter events" fields={FIELDS} values={search} buttonText="Filter" />
      <p className="mt-4 flex flex-wrap gap-4">
        <a className="underline" href={`/admin/audit/export?${query({ format: 'csv' })}`}>
          Export as CSV
        </a>
        <a className="underline" href={`/admin/audit/export?${query({ format: 'jsonl' })}`}>
          Export as JSON Lines
        </a>
      </p>
      {items.length === 0 ? (
        <p className="mt-6">No events match.</p>
      ) : (
        <ul className="mt-6 divide-y divide-gray-300 border-y border-gray-300">
          {items.map((e) => (
            <li key={e.id} className="py-3" data-event={e.type}>
              <p className="font-medium">
                {new Date(e.at).toISOString().replace('T', ' ').slice(0, 19)} UTC · <span>{e.type}</span>
              </p>
              <p className="text-sm break-all">
                {e.actor ? <>By: {e.actor}</> : null}
                {e.messageId ? (
                  <>
                    {' '}
                    · Message:{' '}
                    <a className="underline" href={`/admin/messages/${e.messageId}`}>
                      {e.messageId}
                    </a>
                  </>
                ) : null}
              </p>
              {e.data ? <p className="text-sm break-all text-gray-700">{e.data}</p> : null}
            </li>
          ))}
        </ul>
      )}
      {nextAfter ? (
        <p className="mt-4">
          <a className="underline" href={`/admin/audit?${query({ after: nextAfter })}`}>
            Older events
          </a>
        </p>
      ) : null}
    </AdminShell>
  );
}
