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

// Client resets and the phone layout, the way mail clients need them: Outlook sizes only tables,
// Gmail and Apple Mail honour these media queries, and dark mode must not invert the brand colours.
// A constant: no tenant input reaches it. (It also keeps a logo's HTML part above the sizes at
// which SpamAssassin's HTML_IMAGE_ONLY_* rules read "an image and little else".)
const MAIL_CSS = [
  ':root{color-scheme:light;supported-color-schemes:light}',
  'body{margin:0;padding:0;width:100%!important;-webkit-text-size-adjust:100%;-ms-text-size-adjust:100%}',
  'table,td{border-collapse:collapse;mso-table-lspace:0pt;mso-table-rspace:0pt}',
  'img{border:0;outline:none;text-decoration:none;-ms-interpolation-mode:bicubic;height:auto;max-width:100%}',
  'a[x-apple-data-detectors]{color:inherit!important;text-decoration:none!important;font-size:inherit!important;font-family:inherit!important;font-weight:inherit!important;line-height:inherit!important}',
  'u+#body a{color:inherit;text-decoration:none;font-size:inherit;font-family:inherit;font-weight:inherit;line-height:inherit}',
  '#MessageViewBody a{color:inherit;text-decoration:none;font-size:inherit;font-family:inherit;font-weight:inherit;line-height:inherit}',
  '@media only screen and (max-width:620px){.sp-frame{width:100%!important;max-width:100%!important}.sp-frame td{padding-left:16px!important;padding-right:16px!important}.sp-frame .sp-button{display:block!important;text-align:center!important}}',
  '@media (prefers-color-scheme:dark){.sp-outer{background:#f3f4f6!important}.sp-frame{background:#ffffff!important;color:#111827!important}}',
].join('\n');

// The frame of every branded mail: one 600 px column that mail clients and phones render alike
// (a table, which is what Outlook sizes).
export function MailDocument({ branding, tenantName, hasRemoteImages, children }: MailDocumentProps) {
  return (
    <html lang={branding.look.language}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="x-apple-disable-message-reformatting" />
        <meta name="color-scheme" content="light" />
        <meta name="supported-color-schemes" content="light" />
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant stylesheet, no input */}
        <style dangerouslySetInnerHTML={{ __html: MAIL_CSS }} />
      </head>
      <body id="body" style={{ margin: 0, padding: 0, background: '#f3f4f6', fontFamily: MAIL_FONT, color: '#111827' }}>
        <table role="presentation" className="sp-outer" width="100%" cellPadding={0} cellSpacing={0} style={{ background: '#f3f4f6' }}>
          <tbody>
            <tr>
              <td align="center">
                <table
                  role="presentation"
                  className="sp-frame"
                  width={600}
                  cellPadding={0}
                  cellSpacing={0}
                  style={{ maxWidth: 600, width: '100%', background: '#ffffff' }}
                >
                  <tbody>
                    <tr>
                      <td>
                        <BrandHeader branding={branding} tenantName={tenantName} hasRemoteImages={hasRemoteImages} />
                        {children}
                      </td>
                    </tr>
                  </tbody>
                </table>
              </td>
            </tr>
          </tbody>
        </table>
      </body>
    </html>
  );
}

// Imported at call time: Next.js refuses a static react-dom/server import in app code.
export async function renderStaticHtml(element: ReactElement): Promise<string> {
  const { renderToStaticMarkup } = await import('react-dom/server');
  return `<!DOCTYPE html>${renderToStaticMarkup(element)}`;
}
