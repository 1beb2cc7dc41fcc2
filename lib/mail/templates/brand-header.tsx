import type { ReactElement, ReactNode } from 'react';
import type { TBranding } from '../../templates/schema';

// hasRemoteImages false: an https logo is left out (its name shown instead), as in the passcode
// mail: a remote image there tells a tracker when the code was read, and filters count it.
export type BrandHeaderProps = { branding: TBranding; tenantName: string; hasRemoteImages?: boolean };

// Logo (a validated https or data: URL) and name on the tenant's colour; React escapes all text.
export function BrandHeader({ branding, tenantName, hasRemoteImages = true }: BrandHeaderProps) {
  const name = branding.look.displayName ?? tenantName;
  const logo = branding.look.logo && (hasRemoteImages || branding.look.logo.startsWith('data:')) ? branding.look.logo : null;
  return (
    <div style={{ background: branding.look.primaryColour, color: branding.look.buttonTextColour, padding: '16px 24px' }}>
      {logo ? (
        <img src={logo} alt={name} style={{ maxHeight: 48, maxWidth: 200, display: 'block' }} />
      ) : (
        <strong style={{ fontSize: 20 }}>{name}</strong>
      )}
    </div>
  );
}

export const MAIL_FONT = '-apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang TC", "Microsoft JhengHei", Arial, sans-serif';

export type MailDocumentProps = BrandHeaderProps & { children: ReactNode };

// The frame of every branded mail: one 600 px column that mail clients and phones render alike.
export function MailDocument({ branding, tenantName, hasRemoteImages, children }: MailDocumentProps) {
  return (
    <html lang={branding.look.language}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
      </head>
      <body style={{ margin: 0, padding: 0, background: '#f3f4f6', fontFamily: MAIL_FONT, color: '#111827' }}>
        <div style={{ maxWidth: 600, margin: '0 auto', background: '#ffffff' }}>
          <BrandHeader branding={branding} tenantName={tenantName} hasRemoteImages={hasRemoteImages} />
          {children}
        </div>
      </body>
    </html>
  );
}

// Imported at call time: Next.js refuses a static react-dom/server import in app code.
export async function renderStaticHtml(element: ReactElement): Promise<string> {
  const { renderToStaticMarkup } = await import('react-dom/server');
  return `<!DOCTYPE html>${renderToStaticMarkup(element)}`;
}
