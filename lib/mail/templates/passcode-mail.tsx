import type { TBranding } from '../../templates/schema';
import { mailMessages } from '../../i18n/mail-messages';
import { MailDocument, renderStaticHtml } from './brand-header';

export type TPasscodeMailContent = { branding: TBranding; tenantName: string; code: string; reference: string };

function PasscodeMail({ branding, tenantName, code, reference }: TPasscodeMailContent) {
  const t = mailMessages(branding.look.language);
  return (
    <MailDocument branding={branding} tenantName={tenantName} hasRemoteImages={false}>
      <div style={{ padding: 24, fontSize: 16, lineHeight: 1.5 }}>
        <p style={{ marginTop: 0 }}>{t.passcodeIntro}</p>
        <p style={{ fontSize: 32, fontWeight: 700, letterSpacing: 4, fontFamily: 'ui-monospace, Menlo, Consolas, monospace' }}>{code}</p>
        <p>{t.passcodeReference(reference)}</p>
        <p>{t.passcodeValidity}</p>
        <p style={{ color: '#6b7280', fontSize: 14 }}>{t.passcodeIgnore}</p>
      </div>
    </MailDocument>
  );
}

export async function renderPasscodeHtml(content: TPasscodeMailContent): Promise<string> {
  return renderStaticHtml(<PasscodeMail {...content} />);
}

export function renderPasscodeText({ branding, tenantName, code, reference }: TPasscodeMailContent): string {
  const t = mailMessages(branding.look.language);
  return [
    branding.look.displayName ?? tenantName,
    '',
    t.passcodeIntro,
    '',
    `    ${code}`,
    '',
    t.passcodeReference(reference),
    t.passcodeValidity,
    '',
    t.passcodeIgnore,
    '',
  ].join('\n');
}
