import 'server-only';
import type { TPortalT } from '../../i18n/portal-i18n';
import type { TOwnReply } from '../../messages/conversation';
import type { TMessageView } from '../../messages/to-message-view';
import type { TBranding } from '../../templates/schema';
import { BrandShell, BUTTON } from './brand-shell';
import { RestrictionNotice, Watermarked } from './restriction-notice';

export type MessagePageProps = {
  t: TPortalT;
  id: string;
  tenantName: string;
  // The message's own template: its look and policy.
  branding: TBranding;
  view: TMessageView;
  // Who is reading, and the message their session was opened for.
  reader: { address: string; messageId: string };
  // Reading a reply of one's own: a way back, a copy, and no replying to oneself.
  isOwnReply: boolean;
  replies: TOwnReply[];
  allowImages: boolean;
  // What the last step did (the forms' redirects say so in the query).
  notices: { replied: boolean; forwarded: boolean; copied: boolean };
  // Do Not Forward: the reader's address and the time over a text body.
  watermark: string | null;
};

const formatSize = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;

const people = (list: { name: string; address: string }[]) => list.map((p) => (p.name ? `${p.name} <${p.address}>` : p.address)).join(', ');

const NOTICE = 'mb-4 rounded-md border border-green-300 bg-green-50 p-3 text-green-900';

// GET /m/<id>: the decrypted message, for its signed-in recipient (lib/http/message-page-response.ts
// loads it). The body is the sender's HTML: a sandboxed frame (no scripts, no same-origin, no
// forms) of its own document, /m/<id>/body, under its own CSP that loads nothing but inline
// images, and remote ones only once allowed.
export function MessagePage({
  t,
  id,
  tenantName,
  branding,
  view,
  reader,
  isOwnReply,
  replies,
  allowImages,
  notices,
  watermark,
}: MessagePageProps) {
  const isRestricted = branding.policy.restrictions === 'do-not-forward';
  const bodyUrl = `/m/${id}/body${allowImages ? '?images=1' : ''}`;
  return (
    <BrandShell branding={branding} tenantName={tenantName} privacyLabel={t('privacy')}>
      {isRestricted ? <p className="hidden print:block">{t('printNotice')}</p> : null}
      <div className={isRestricted ? 'print:hidden' : undefined}>
        <RestrictionNotice
          restrictions={branding.policy.restrictions}
          text={{ title: t('restrictedTitle'), body: t('restrictedBody'), limits: t('restrictedLimits'), encryptOnly: t('encryptOnly') }}
        />
        {notices.replied ? (
          <p role="status" className={NOTICE}>
            {t('replySent')}
          </p>
        ) : null}
        {notices.forwarded ? (
          <p role="status" className={NOTICE}>
            {t('forwardSent')}
          </p>
        ) : null}
        {notices.copied ? (
          <p role="status" className={NOTICE}>
            {t('copySent', { address: reader.address })}
          </p>
        ) : null}
        {isOwnReply ? (
          <p className="mb-4">
            <a className="inline-flex min-h-11 items-center underline" href={`/m/${reader.messageId}`}>
              {t('backToMessage')}
            </a>
          </p>
        ) : null}
        <article>
          <h1 className="text-2xl font-semibold break-words">{view.subject || t('noSubject')}</h1>
          <dl className="mt-4 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm break-words">
            <dt className="font-medium">{t('from')}</dt>
            <dd>{people(view.from)}</dd>
            <dt className="font-medium">{t('to')}</dt>
            <dd>{people(view.to)}</dd>
            {view.cc.length ? (
              <>
                <dt className="font-medium">{t('cc')}</dt>
                <dd>{people(view.cc)}</dd>
              </>
            ) : null}
            {view.date ? (
              <>
                <dt className="font-medium">{t('date')}</dt>
                <dd>
                  <time dateTime={view.date}>{new Date(view.date).toUTCString()}</time>
                </dd>
              </>
            ) : null}
          </dl>
          {view.hasRemoteImages && !allowImages ? (
            <p className="mt-4 rounded-md bg-amber-50 p-3 text-sm">
              {t('imagesHidden')}{' '}
              <a className="underline" href={`/m/${id}?images=1`}>
                {t('showImages')}
              </a>
            </p>
          ) : null}
          {view.html !== null ? (
            <iframe
              title={t('messageBody')}
              sandbox="allow-popups allow-popups-to-escape-sandbox"
              src={bodyUrl}
              className="mt-4 h-[60vh] w-full rounded-md border border-gray-300 bg-white"
            />
          ) : (
            <Watermarked watermark={watermark}>
              <pre className="mt-4 whitespace-pre-wrap break-words rounded-md border border-gray-300 bg-white p-3 font-sans">
                {view.text}
              </pre>
            </Watermarked>
          )}
          {view.attachments.length ? (
            <section className="mt-6">
              <h2 className="text-lg font-semibold">{t('attachments')}</h2>
              <ul className="mt-2 space-y-2">
                {view.attachments.map((a) => (
                  <li key={a.index}>
                    <a
                      className="inline-flex min-h-11 items-center underline"
                      href={`/m/${id}/attachments/${a.index}`}
                      download={a.filename}
                    >
                      {a.filename}
                    </a>{' '}
                    <span className="text-sm text-gray-600">{`${a.contentType}, ${formatSize(a.size)}`}</span>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </article>
        {isOwnReply ? (
          <form method="post" action={`/m/${id}/copy`} className="mt-6">
            <button type="submit" className={BUTTON}>
              {t('sendCopy')}
            </button>
          </form>
        ) : (
          <form method="get" action={`/m/${id}/reply`} className="mt-6 flex flex-wrap gap-3">
            <button type="submit" name="all" value="0" className={BUTTON}>
              {t('reply')}
            </button>
            <button type="submit" name="all" value="1" className={BUTTON}>
              {t('replyAll')}
            </button>
            {branding.policy.allowForward ? (
              <button type="submit" formAction={`/m/${id}/forward`} className={BUTTON}>
                {t('forward')}
              </button>
            ) : null}
          </form>
        )}
        {replies.length ? (
          <section className="mt-8" aria-labelledby="conversation">
            <h2 id="conversation" className="text-lg font-semibold">
              {t('conversation')}
            </h2>
            <ul className="mt-2 space-y-3">
              {replies.map((r) => {
                const said = t('replyOn', { date: new Date(r.createdAt).toUTCString(), recipients: r.recipients.join(', ') });
                return (
                  <li key={r.id} className="rounded-md border border-gray-300 bg-white p-3">
                    {r.isKept ? (
                      <a className="inline-flex min-h-11 items-center underline break-words" href={`/m/${r.id}`}>
                        {said}
                      </a>
                    ) : (
                      <>
                        <p className="break-words">{said}</p>
                        <p className="mt-1 text-sm text-gray-700">{t('replyKeptNot')}</p>
                      </>
                    )}
                  </li>
                );
              })}
            </ul>
          </section>
        ) : null}
        <form method="post" action="/signout" className="mt-8">
          <button type="submit" className="min-h-11 underline">
            {t('signOut')}
          </button>
        </form>
      </div>
    </BrandShell>
  );
}
