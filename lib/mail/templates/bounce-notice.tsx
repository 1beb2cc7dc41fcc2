import type { TBranding } from '../../templates/schema';
import { formatMailDate, mailMessages } from '../../i18n/mail-messages';
import { MailDocument, renderStaticHtml } from './brand-header';

export type TBounceNoticeContent = { branding: TBranding; tenantName: string; address: string; sentAt: number; reason: string };

// The notice to a sender that one recipient's server refused their message for good.
function BounceNotice({ branding, tenantName, address, sentAt, reason }: TBounceNoticeContent) {
  const t = mailMessages(branding.look.language);
  return (
    <MailDocument branding={branding} tenantName={tenantName} hasRemoteImages={false}>
      <div style={{ padding: 24, fontSize: 16, lineHeight: 1.5 }}>
        <p style={{ marginTop: 0 }}>{t.bounceIntro(address, formatMailDate(sentAt, branding.look.language))}</p>
        <p>{t.bounceReason}</p>
        <p style={{ fontFamily: 'ui-monospace, Menlo, Consolas, monospace', fontSize: 14, background: '#f3f4f6', padding: 12 }}>{reason}</p>
        <p>{t.bounceAdvice}</p>
      </div>
      <div style={{ padding: '16px 24px', borderTop: '1px solid #e5e7eb', fontSize: 12, color: '#6b7280' }}>
        <p style={{ margin: 0 }}>{t.poweredBy}</p>
      </div>
    </MailDocument>
  );
}

export async function renderBounceNoticeHtml(content: TBounceNoticeContent): Promise<string> {
  return renderStaticHtml(<BounceNotice {...content} />);
}

export function renderBounceNoticeText({ branding, tenantName, address, sentAt, reason }: TBounceNoticeContent): string {
  const t = mailMessages(branding.look.language);
  return [
    branding.look.displayName ?? tenantName,
    '',
    t.bounceIntro(address, formatMailDate(sentAt, branding.look.language)),
    '',
    t.bounceReason,
    '',
    `    ${reason}`,
    '',
    t.bounceAdvice,
    '',
    t.poweredBy,
    '',
  ].join('\n');
}
