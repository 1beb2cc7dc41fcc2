import { notFound } from 'next/navigation';
import { getConfig } from '@/lib/env';
import { isMailboxAllowed } from '@/lib/http/mailbox-access';
import { headers } from 'next/headers';
import { listMailbox, MAILBOX_LIST_LIMIT } from '@/lib/mail/mailbox/list-mailbox';

export const dynamic = 'force-dynamic';

const when = (iso: string) => new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });

// GET /mailbox – on the base host, only while SMTP_URL is unset: what the outbox "sent", newest
// first, so the whole journey can be tried on one machine. With a real relay there is nothing here.
export default async function MailboxPage() {
  const config = getConfig();
  if (!isMailboxAllowed({ config, headers: await headers() })) notFound();
  const mails = await listMailbox({ dataDir: config.dataDir });
  return (
    <main className="mx-auto max-w-3xl p-4 sm:p-6">
      <h1 className="text-2xl font-semibold">Local mailbox</h1>
      <p className="mt-2 text-sm text-gray-600">
        This page appears because no SMTP server is configured (<code>SMTP_URL</code> is unset): every mail Sealpost sends lands here
        instead of being delivered. The newest {MAILBOX_LIST_LIMIT} are shown.
      </p>
      {mails.length === 0 ? (
        <p className="mt-6 rounded-md border border-gray-300 bg-white p-4">
          No mail yet. Send a message with <code className="[overflow-wrap:anywhere]">npx sealpost send --tenant demo hello.eml</code> and
          reload this page.
        </p>
      ) : (
        <ul className="mt-6 divide-y divide-gray-200 overflow-hidden rounded-md border border-gray-300 bg-white">
          {mails.map((mail) => (
            <li key={mail.id}>
              <a href={`/mailbox/${mail.id}`} className="block min-h-11 px-4 py-3 hover:bg-gray-50 focus:bg-gray-50 focus:outline-none">
                <span className="flex items-baseline justify-between gap-3">
                  <span className="min-w-0 truncate font-medium">{mail.to || '(no recipient)'}</span>
                  <time dateTime={mail.date} className="shrink-0 text-xs text-gray-600">
                    {when(mail.date)}
                  </time>
                </span>
                <span className="mt-1 block font-semibold [overflow-wrap:anywhere]">{mail.subject || '(no subject)'}</span>
                <span className="mt-1 block truncate text-sm text-gray-600">From {mail.from || '(unknown)'}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
