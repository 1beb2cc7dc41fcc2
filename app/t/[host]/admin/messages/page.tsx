import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { listAdminMessages, ZMessageSearch } from '@/lib/admin/list-admin-messages';
import { AdminShell } from '@/lib/admin/ui/admin-shell';
import { FilterForm } from '@/lib/admin/ui/filter-form';
import { SubjectNotShown } from '@/lib/admin/ui/subject-not-shown';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const FIELDS = [
  { name: 'sender', label: 'Sender', type: 'text' },
  { name: 'recipient', label: 'Recipient address', type: 'email' },
  { name: 'from', label: 'Sent on or after', type: 'date' },
  { name: 'to', label: 'Sent on or before', type: 'date' },
] as const;

// GET /admin/messages – the tenant's messages, metadata only, newest first, with a search
export default async function AdminMessagesPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/messages' });
  const search = ZMessageSearch.parse(
    Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])),
  );
  const { items, nextAfter } = await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search });
  const nextQuery = new URLSearchParams(
    Object.entries({ ...search, after: nextAfter ?? '' }).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  );
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Messages</h1>
      <p className="mt-2 text-gray-700">
        Who sent what to whom, and when: never the content (the subject only where the template shows it).
      </p>
      <FilterForm action="/admin/messages" label="Search messages" fields={FIELDS} values={search} buttonText="Search" />
      {items.length === 0 ? (
        <p className="mt-6">No messages match.</p>
      ) : (
        <ul className="mt-6 divide-y divide-gray-300 border-y border-gray-300">
          {items.map((m) => (
            <li key={m.id} className="py-3">
              <p className="font-medium break-all">
                <a className="underline" href={`/admin/messages/${m.id}`}>
                  {new Date(m.createdAt).toISOString().replace('T', ' ').slice(0, 16)} UTC · {m.sender}
                </a>
              </p>
              <p className="text-sm break-all" data-subject={m.subject === null ? 'none' : 'shown'}>
                Subject: {m.subject ?? <SubjectNotShown />}
              </p>
              <p className="text-sm break-all">To: {m.recipients.join(', ')}</p>
              <p className="text-sm">
                State: <span data-state={m.state}>{m.state}</span> · Views: {m.views} · Template: {m.template}
              </p>
            </li>
          ))}
        </ul>
      )}
      {nextAfter ? (
        <p className="mt-4">
          <a className="underline" href={`/admin/messages?${nextQuery.toString()}`}>
            Older messages
          </a>
        </p>
      ) : null}
    </AdminShell>
  );
}
