import type { TBranding } from '../../branding/schema';
import { mailMessages } from '../../i18n/mail-messages';
import { BrandHeader } from './brand-header';

export type TPasscodeMailContent = { branding: TBranding; tenantName: string; code: string; reference: string };

const FONT = '-apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang TC", "Microsoft JhengHei", Arial, sans-serif';

function PasscodeMail({ branding, tenantName, code, reference }: TPasscodeMailContent) {
  const t = mailMessages(branding.language);
  return (
    <html lang={branding.language}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </head>
      <body style={{ margin: 0, background: '#f3f4f6', fontFamily: FONT, color: '#111827' }}>
        <div style={{ maxWidth: 600, margin: '0 auto', background: '#ffffff' }}>
          <BrandHeader branding={branding} tenantName={tenantName} />
          <div style={{ padding: 24, fontSize: 16, lineHeight: 1.5 }}>
            <p style={{ marginTop: 0 }}>{t.passcodeIntro}</p>
            <p style={{ fontSize: 32, fontWeight: 700, letterSpacing: 4, fontFamily: 'ui-monospace, Menlo, Consolas, monospace' }}>{code}</p>
            <p>{t.passcodeReference(reference)}</p>
            <p>{t.passcodeValidity}</p>
            <p style={{ color: '#6b7280', fontSize: 14 }}>{t.passcodeIgnore}</p>
          </div>
        </div>
      </body>
    </html>
  );
}

export async function renderPasscodeHtml(content: TPasscodeMailContent): Promise<string> {
  // Imported at call time: Next.js refuses a static react-dom/server import in app code.
  const { renderToStaticMarkup } = await import('react-dom/server');
  return `<!DOCTYPE html>${renderToStaticMarkup(<PasscodeMail {...content} />)}`;
}

export function renderPasscodeText({ branding, tenantName, code, reference }: TPasscodeMailContent): string {
  const t = mailMessages(branding.language);
  return [branding.displayName ?? tenantName, '', t.passcodeIntro, '', `    ${code}`, '', t.passcodeReference(reference), t.passcodeValidity, '', t.passcodeIgnore, ''].join('\n');
}
