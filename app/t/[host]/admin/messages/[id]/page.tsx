import { notFound } from 'next/navigation';
import { getAdminMessageOrThrow } from '@/lib/admin/get-admin-message';
import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_DANGER_BUTTON, AdminShell } from '@/lib/admin/ui/admin-shell';
import { SubjectNotShown } from '@/lib/admin/ui/subject-not-shown';
import { isAppError } from '@/lib/errors';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string; id: string }>; searchParams: Promise<{ error?: string; revoked?: string }> };

// GET /admin/messages/<id> – one message's metadata, and its revocation (with a confirmation)
export default async function AdminMessagePage({ params, searchParams }: TProps) {
  const { host, id } = await params;
  const { error, revoked } = await searchParams;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: `/admin/messages/${id}` });
  const message = await getAdminMessageOrThrow({ db: ctx.db, master: ctx.master, tenantId: tenant.id, messageId: id }).catch(
    (e: unknown) => {
      if (isAppError(e) && e.code === 'NOT_FOUND') notFound();
      throw e;
    },
  );
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Message</h1>
      <dl className="mt-4 grid gap-x-4 gap-y-2 sm:grid-cols-[max-content_1fr]">
        <dt className="font-medium">Sent</dt>
        <dd>{new Date(message.createdAt).toISOString().replace('T', ' ').slice(0, 19)} UTC</dd>
        <dt className="font-medium">Subject</dt>
        <dd className="break-all" data-subject={message.subject === null ? 'none' : 'shown'}>
          {message.subject ?? <SubjectNotShown />}
        </dd>
        <dt className="font-medium">Sender</dt>
        <dd className="break-all">{message.sender}</dd>
        <dt className="font-medium">Recipients</dt>
        <dd className="break-all">{message.recipients.join(', ')}</dd>
        <dt className="font-medium">State</dt>
        <dd data-state={message.state}>{message.state}</dd>
        <dt className="font-medium">Views</dt>
        <dd>{message.views}</dd>
        <dt className="font-medium">Template</dt>
        <dd>{message.template}</dd>
        <dt className="font-medium">Restrictions when sent</dt>
        <dd>{message.restrictions === 'do-not-forward' ? 'Do Not Forward' : 'Encrypt-Only'}</dd>
      </dl>
      {revoked === '1' ? (
        <p role="status" className="mt-6 font-semibold">
          The message is revoked: no copy of it opens any more.
        </p>
      ) : null}
      {error === 'BAD_REQUEST' ? (
        <p role="alert" className="mt-6 text-red-800">
          Tick the box to confirm the revocation.
        </p>
      ) : null}
      {message.state === 'active' ? (
        <form method="post" action={`/admin/messages/${message.id}/revoke`} className="mt-6 rounded-md border border-red-800 p-4">
          <h2 className="text-lg font-semibold">Revoke</h2>
          <p className="mt-2">Revoking destroys the message's key: no recipient can open it again, and it cannot be undone.</p>
          <label className="mt-3 flex min-h-11 items-center gap-3">
            <input type="checkbox" name="confirm" value="yes" required className="h-5 w-5" />
            <span>I understand: revoke this message for every recipient</span>
          </label>
          <button type="submit" className={`${ADMIN_DANGER_BUTTON} mt-3`}>
            Revoke message
          </button>
        </form>
      ) : null}
      <p className="mt-6">
        <a className="underline" href="/admin/messages">
          All messages
        </a>
      </p>
    </AdminShell>
  );
}
