import { canReplyNow, REPLY_MAX_ATTACHMENTS, REPLY_MAX_BYTES } from '@/lib/messages/send-reply';
import { restrictReplyRecipients } from '@/lib/messages/restrict-reply-recipients';
import { AttachmentsInput } from '@/lib/portal/ui/attachments-input';
import { ErrorAlert } from '@/lib/portal/ui/error-alert';
import { BrandShell, BUTTON } from '@/lib/portal/ui/brand-shell';
import { loadMessagePage } from '@/lib/portal/load-message-page';
import { getPortalText } from '@/lib/i18n/portal-i18n';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string; id: string }>; searchParams: Promise<{ all?: string; error?: string }> };

// GET /m/<id>/reply – write an encrypted reply (Reply, or Reply all with ?all=1)
export default async function ReplyPage({ params, searchParams }: TProps) {
  const { host, id } = await params;
  const { all, error } = await searchParams;
  const { ctx, tenant, opened, view, branding } = await loadMessagePage({ host, id });
  const isReplyAll = all === '1';
  const sender = view.from[0]?.address ?? '';
  const me = opened.session.address;
  // Who the reply will go to, as the server will send it (Do Not Forward keeps only real recipients).
  const others = isReplyAll
    ? await restrictReplyRecipients({
        ctx,
        tenantId: tenant.id,
        messageId: id,
        from: me,
        sender,
        others: [...view.to, ...view.cc].map((p) => p.address).filter((a) => a && a.toLowerCase() !== me && a !== sender),
        added: [],
      })
    : [];
  const { t, errorText: toErrorText } = await getPortalText();
  // At the hourly limit the form is not offered: nothing written in it could be sent.
  const isLimited = !(await canReplyNow({ ctx, tenant, from: me }));
  const errorText = toErrorText(isLimited ? 'REPLIES_LIMITED' : error);
  const tooLarge = toErrorText('PAYLOAD_TOO_LARGE') ?? '';
  return (
    <BrandShell branding={branding} tenantName={tenant.name} privacyLabel={t('privacy')}>
      <h1 className="text-2xl font-semibold break-words">{/^re:/i.test(view.subject) ? view.subject : `Re: ${view.subject}`}</h1>
      <p className="mt-2 text-sm break-words">{t('replyTo', { recipients: [sender, ...others].join(', ') })}</p>
      <p className="mt-1 text-sm text-gray-600">{t('replyEncrypted')}</p>
      <ErrorAlert text={errorText} />
      {isLimited ? null : (
        <form method="post" action={`/m/${id}/reply/send`} encType="multipart/form-data" className="mt-4 space-y-4">
          <input type="hidden" name="all" value={isReplyAll ? '1' : '0'} />
          <div>
            <label htmlFor="body" className="block font-medium">
              {t('replyMessage')}
            </label>
            <textarea
              id="body"
              name="body"
              rows={8}
              maxLength={100_000}
              className="mt-1 block w-full rounded-md border border-gray-400 p-3"
            />
          </div>
          <div>
            <label htmlFor="attachments" className="block font-medium">
              {t('replyAttachments', { count: REPLY_MAX_ATTACHMENTS })}
            </label>
            <AttachmentsInput
              id="attachments"
              name="attachments"
              maxFiles={REPLY_MAX_ATTACHMENTS}
              maxBytes={REPLY_MAX_BYTES}
              refusal={tooLarge}
            />
          </div>
          <label className="flex min-h-11 items-center gap-3">
            <input type="checkbox" name="copy" value="1" className="h-5 w-5" />
            <span>{t('replyCopy')}</span>
          </label>
          <button type="submit" className={BUTTON}>
            {t('send')}
          </button>
        </form>
      )}
    </BrandShell>
  );
}
