import { notFound } from 'next/navigation';
import { getConfig } from '@/lib/env';
import { isMailboxAllowed } from '@/lib/http/mailbox-access';
import { headers } from 'next/headers';
import { loadForPage } from '@/lib/http/load-for-page';
import { readMailboxMail } from '@/lib/mail/mailbox/read-mailbox-mail';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ id: string }> };

const formatSize = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
const when = (iso: string) => new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });

// The frame's own policy on top of the empty sandbox: nothing loads but inline styles and images
// (a branded logo is an https or data URL), so the mail cannot call home beyond that.
const FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:";

// GET /mailbox/<id> – one mail of the local mailbox (base host, SMTP_URL unset only)
export default async function MailboxMailPage({ params }: TProps) {
  const config = getConfig();
  if (!isMailboxAllowed({ config, headers: await headers() })) notFound();
  const { id } = await params;
  const mail = await loadForPage(() => readMailboxMail({ dataDir: config.dataDir, id }));
  // The HTML part is untrusted markup: it only ever exists as the srcdoc of a sandboxed frame (no
  // scripts, forms or same-origin access), never as part of this page. Its links may open a new
  // tab, outside the sandbox, so "Read the message" can be followed from here.
  const srcDoc =
    mail.html === null
      ? null
      : `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${FRAME_CSP}"><base target="_blank"><style>body{font-family:system-ui,sans-serif;margin:0;padding:8px;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style></head><body>${mail.html}</body></html>`;
  return (
    <main className="mx-auto max-w-3xl p-4 sm:p-6">
      <p className="text-sm">
        <a href="/mailbox" className="inline-flex min-h-11 items-center underline">
          ← Local mailbox
        </a>
      </p>
      <h1 className="text-2xl font-semibold [overflow-wrap:anywhere]">{mail.subject || '(no subject)'}</h1>
      <dl className="mt-4 grid grid-cols-[auto_minmax(0,1fr)] gap-x-3 gap-y-1 text-sm [overflow-wrap:anywhere]">
        <dt className="font-medium">From</dt>
        <dd>{mail.from || '(unknown)'}</dd>
        <dt className="font-medium">To</dt>
        <dd>{mail.to || '(none)'}</dd>
        <dt className="font-medium">Date</dt>
        <dd>
          <time dateTime={mail.date ?? mail.receivedAt}>{when(mail.date ?? mail.receivedAt)}</time>
        </dd>
      </dl>
      {mail.attachments.length ? (
        <section className="mt-6">
          <h2 className="text-lg font-semibold">Attachments</h2>
          <ul className="mt-2 space-y-1">
            {mail.attachments.map((a) => (
              <li key={a.index} className="[overflow-wrap:anywhere]">
                <a
                  className="inline-flex min-h-11 items-center underline"
                  href={`/mailbox/${mail.id}/attachments/${a.index}`}
                  download={a.filename}
                >
                  {a.filename}
                </a>{' '}
                <span className="text-sm text-gray-600">{`${a.contentType || 'unknown type'}, ${formatSize(a.size)}`}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {srcDoc !== null ? (
        <section className="mt-6">
          <h2 className="text-lg font-semibold">HTML version</h2>
          <p className="mt-1 text-sm text-gray-600">
            Shown sandboxed: links open in a new tab; nothing else in it runs. There is also a{' '}
            <a href="#text" className="underline">
              text version
            </a>
            .
          </p>
          <iframe
            title="HTML version of the mail"
            sandbox="allow-popups allow-popups-to-escape-sandbox"
            srcDoc={srcDoc}
            className="mt-2 h-[70vh] w-full rounded-md border border-gray-300 bg-white"
          />
        </section>
      ) : null}
      <section id="text" className="mt-6">
        <h2 className="text-lg font-semibold">Text version</h2>
        {mail.text ? (
          <pre className="mt-2 whitespace-pre-wrap rounded-md border border-gray-300 bg-white p-3 font-sans text-sm [overflow-wrap:anywhere]">
            {mail.text}
          </pre>
        ) : (
          <p className="mt-2 text-sm text-gray-600">This mail has no text part.</p>
        )}
      </section>
    </main>
  );
}
