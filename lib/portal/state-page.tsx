import type { TBranding } from '../branding/schema';
import { negotiateLocale, portalText } from '../i18n/portal-i18n';
import { BrandHeader, MAIL_FONT, renderStaticHtml } from '../mail/templates/brand-header';

// The portal's end states. App Router pages can only answer 200, 401, 403 or 404, so these are
// whole documents answered by route handlers, with the status a client (or a monitor) can act on.
const STATES = {
  revoked: { status: 410, title: 'revokedTitle', body: 'revokedBody' },
  expired: { status: 410, title: 'expiredTitle', body: 'expiredBody' },
  reopen: { status: 410, title: 'reopenTitle', body: 'reopenBody' },
  invalid: { status: 400, title: 'invalidTitle', body: 'invalidBody' },
  rateLimited: { status: 429, title: 'rateLimitedTitle', body: null },
  lockedOut: { status: 429, title: 'lockedOutTitle', body: null },
} as const;
export type TPortalState = keyof typeof STATES;

export type StatePageOptions = {
  request: Request;
  branding: TBranding;
  tenantName: string;
  state: TPortalState;
  sender?: string;
  // Said in place of the state's own text (the reason a wait is needed, and how long).
  detail?: string;
  // Where "Try again" leads, for the states that pass.
  backTo?: string;
  retryAfterSeconds?: number;
};

export async function statePageResponse({ request, branding, tenantName, state, sender = '', detail, backTo, retryAfterSeconds }: StatePageOptions): Promise<Response> {
  const { locale, t, errorText } = portalText(negotiateLocale(request.headers.get('accept-language')));
  const { status, title, body } = STATES[state];
  const text = detail ?? (body ? t(body, { sender }) : errorText(state === 'rateLimited' ? 'RATE_LIMITED' : 'LOCKED_OUT'));
  const name = branding.displayName ?? tenantName;
  const html = await renderStaticHtml(
    <html lang={locale}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${t(title)} – ${name}`}</title>
      </head>
      <body style={{ margin: 0, background: '#f9fafb', color: '#111827', fontFamily: MAIL_FONT, lineHeight: 1.5 }}>
        <header>
          <BrandHeader branding={branding} tenantName={tenantName} />
        </header>
        <main style={{ maxWidth: 672, margin: '0 auto', padding: '24px 16px' }}>
          <h1 style={{ fontSize: 24, fontWeight: 600, margin: 0 }}>{t(title)}</h1>
          <p style={{ marginTop: 16, overflowWrap: 'anywhere' }}>{text}</p>
          {backTo ? (
            <p style={{ marginTop: 24 }}>
              <a href={backTo} style={{ display: 'inline-block', minHeight: 44, lineHeight: '44px', padding: '0 24px', borderRadius: 6, background: branding.primaryColour, color: branding.buttonTextColour, fontWeight: 600, textDecoration: 'none' }}>
                {t('tryAgain')}
              </a>
            </p>
          ) : null}
        </main>
        <footer style={{ maxWidth: 672, margin: '0 auto', padding: '0 16px 32px', fontSize: 14, color: '#4b5563' }}>
          {branding.disclaimer ? <p style={{ whiteSpace: 'pre-line' }}>{branding.disclaimer}</p> : null}
          {branding.privacyUrl ? (
            <p>
              <a href={branding.privacyUrl} rel="noopener noreferrer" style={{ color: 'inherit' }}>
                {t('privacy')}
              </a>
            </p>
          ) : null}
        </footer>
      </body>
    </html>,
  );
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  if (status === 429 && retryAfterSeconds) headers.set('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return new Response(html, { status, headers });
}
