import { forbidden } from 'next/navigation';
import { recordAudit } from '@/lib/audit/record-audit';
import { getPortalText } from '@/lib/i18n/portal-i18n';
import { FORWARD_MAX_RECIPIENTS } from '@/lib/messages/send-forward';
import { BrandShell, BUTTON } from '@/lib/portal/ui/brand-shell';
import { ErrorAlert } from '@/lib/portal/ui/error-alert';
import { loadMessagePage } from '@/lib/portal/load-message-page';

export const dynamic = 'force-dynamic';

// The browser checks the list before it is sent (no script needed), so a typo never costs the
// note written below it; the server checks each address properly again.
const ADDRESS = '[^\\s@,;]+@[^\\s@,;]+\\.[^\\s@,;]+';
const RECIPIENT_LIST_PATTERN = `\\s*${ADDRESS}(\\s*[,;\\s]\\s*${ADDRESS}){0,${FORWARD_MAX_RECIPIENTS - 1}}[\\s,;]*`;

type TProps = { params: Promise<{ host: string; id: string }>; searchParams: Promise<{ error?: string }> };

// GET /m/<id>/forward – forward the message, encrypted, where its template allows it
export default async function ForwardPage({ params, searchParams }: TProps) {
  const { host, id } = await params;
  const { error } = await searchParams;
  const { ctx, tenant, opened, view, branding } = await loadMessagePage({ host, id });
  if (!branding.policy.allowForward) {
    const { restrictions } = branding.policy;
    const data = { action: 'forward', restrictions };
    await recordAudit(ctx.db, {
      tenantId: tenant.id,
      messageId: id,
      type: 'restricted_action_refused',
      actor: opened.session.address,
      data,
    });
    forbidden();
  }
  const { t, errorText: toErrorText } = await getPortalText();
  return (
    <BrandShell branding={branding} tenantName={tenant.name} privacyLabel={t('privacy')}>
      <h1 className="text-2xl font-semibold break-words">{/^fwd?:/i.test(view.subject) ? view.subject : `Fwd: ${view.subject}`}</h1>
      <p className="mt-2 text-sm text-gray-700">{t('forwardEncrypted')}</p>
      {view.attachments.length ? (
        <p className="mt-1 text-sm text-gray-700 break-words">{`${t('attachments')}: ${view.attachments.map((a) => a.filename).join(', ')}`}</p>
      ) : null}
      <ErrorAlert text={toErrorText(error)} />
      <form method="post" action={`/m/${id}/forward/send`} className="mt-4 space-y-4">
        <div>
          <label htmlFor="to" className="block font-medium">
            {t('forwardTo', { count: FORWARD_MAX_RECIPIENTS })}
          </label>
          <input
            id="to"
            name="to"
            type="text"
            inputMode="email"
            autoComplete="email"
            required
            maxLength={2000}
            pattern={RECIPIENT_LIST_PATTERN}
            title={t('forwardTo', { count: FORWARD_MAX_RECIPIENTS })}
            className="mt-1 block min-h-11 w-full rounded-md border border-gray-400 p-3"
          />
        </div>
        <div>
          <label htmlFor="body" className="block font-medium">
            {t('replyMessage')}
          </label>
          <textarea
            id="body"
            name="body"
            rows={6}
            maxLength={100_000}
            className="mt-1 block w-full rounded-md border border-gray-400 p-3"
          />
        </div>
        <button type="submit" className={BUTTON}>
          {t('send')}
        </button>
      </form>
    </BrandShell>
  );
}
