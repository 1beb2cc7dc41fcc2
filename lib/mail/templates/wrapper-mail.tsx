import type { TBranding } from '../../templates/schema';
import { formatMailDate, mailMessages } from '../../i18n/mail-messages';
import { MailDocument, renderStaticHtml } from './brand-header';

export type TWrapperContent = {
  branding: TBranding;
  tenantName: string;
  senderLabel: string;
  readUrl: string | null;
  expiresAt: number | null;
  hasAttachment: boolean;
  // A reader's answer written as the tenant without Reply-To them: say where to answer.
  isAnswerInPortal?: boolean;
};

// The wrapper's HTML part: a single-column layout that mail clients and phones render alike.
function WrapperMail({ branding, tenantName, senderLabel, readUrl, expiresAt, hasAttachment, isAnswerInPortal }: TWrapperContent) {
  const t = mailMessages(branding.look.language);
  return (
    <MailDocument branding={branding} tenantName={tenantName}>
      <div style={{ padding: 24, fontSize: 16, lineHeight: 1.5 }}>
        <p style={{ marginTop: 0 }}>{branding.look.introduction ?? t.introduction(senderLabel)}</p>
        {branding.look.emailText ? <p style={{ whiteSpace: 'pre-line' }}>{branding.look.emailText}</p> : null}
        {branding.policy.restrictions === 'do-not-forward' ? <p style={{ fontWeight: 600 }}>{t.doNotForward}</p> : null}
        {readUrl ? (
          <p style={{ margin: '28px 0' }}>
            <a
              href={readUrl}
              className="sp-button"
              style={{
                background: branding.look.primaryColour,
                color: branding.look.buttonTextColour,
                padding: '14px 28px',
                borderRadius: 6,
                textDecoration: 'none',
                fontWeight: 600,
                display: 'inline-block',
              }}
            >
              {branding.look.buttonText ?? t.readButton}
            </a>
          </p>
        ) : null}
        {isAnswerInPortal ? <p>{t.answerInPortal}</p> : null}
        {expiresAt ? <p>{t.expires(formatMailDate(expiresAt, branding.look.language))}</p> : null}
        {hasAttachment ? <p style={{ color: '#4b5563', fontSize: 14 }}>{t.attachmentHint}</p> : null}
        {readUrl ? (
          <p style={{ color: '#4b5563', fontSize: 13, wordBreak: 'break-all' }}>
            {t.linkHint} {readUrl}
          </p>
        ) : null}
      </div>
      <div style={{ padding: '16px 24px', borderTop: '1px solid #e5e7eb', fontSize: 12, color: '#6b7280' }}>
        {branding.look.disclaimer ? <p style={{ whiteSpace: 'pre-line', marginTop: 0 }}>{branding.look.disclaimer}</p> : null}
        {branding.look.privacyUrl ? (
          <p>
            <a href={branding.look.privacyUrl} style={{ color: '#374151' }}>
              {t.privacy}
            </a>
          </p>
        ) : null}
        <p style={{ marginBottom: 0 }}>{t.poweredBy}</p>
      </div>
    </MailDocument>
  );
}

export async function renderWrapperHtml(content: TWrapperContent): Promise<string> {
  return renderStaticHtml(<WrapperMail {...content} />);
}

export function renderWrapperText({
  branding,
  tenantName,
  senderLabel,
  readUrl,
  expiresAt,
  hasAttachment,
  isAnswerInPortal,
}: TWrapperContent): string {
  const t = mailMessages(branding.look.language);
  const lines = [branding.look.displayName ?? tenantName, '', branding.look.introduction ?? t.introduction(senderLabel)];
  if (branding.look.emailText) lines.push('', branding.look.emailText);
  if (branding.policy.restrictions === 'do-not-forward') lines.push('', t.doNotForward);
  if (readUrl) lines.push('', `${branding.look.buttonText ?? t.readButton}:`, readUrl);
  if (isAnswerInPortal) lines.push('', t.answerInPortal);
  if (expiresAt) lines.push('', t.expires(formatMailDate(expiresAt, branding.look.language)));
  if (hasAttachment) lines.push('', t.attachmentHint);
  if (branding.look.disclaimer) lines.push('', '--', branding.look.disclaimer);
  if (branding.look.privacyUrl) lines.push('', `${t.privacy}: ${branding.look.privacyUrl}`);
  // The same words as the HTML part: a text part that says less is what filters score (MPART_ALT_DIFF).
  lines.push('', t.poweredBy);
  return `${lines.join('\n')}\n`;
}
