import 'server-only';
import type { CSSProperties } from 'react';
import type { TBranding } from '../../templates/schema';
import { negotiateLocale, portalText } from '../../i18n/portal-i18n';
import { BrandHeader, MAIL_FONT, renderStaticHtml } from '../../mail/templates/brand-header';

// The portal's end states. App Router pages can only answer 200, 401, 403 or 404, so these are
// whole documents answered by route handlers (lib/http/state-page-response.ts), with the status a
// client (or a monitor) can act on.
const STATES = {
  revoked: { status: 410, title: 'revokedTitle', body: 'revokedBody' },
  expired: { status: 410, title: 'expiredTitle', body: 'expiredBody' },
  reopen: { status: 410, title: 'reopenTitle', body: 'reopenBody' },
  invalid: { status: 400, title: 'invalidTitle', body: 'invalidBody' },
  rateLimited: { status: 429, title: 'rateLimitedTitle', body: null },
  lockedOut: { status: 429, title: 'lockedOutTitle', body: null },
  // The hard stop on guessing: no waiting ends it, only the sender.
  blocked: { status: 403, title: 'blockedTitle', body: 'blockedBody' },
  // Federated sign-in: on the way to the provider, and what can come back from it.
  toProvider: { status: 200, title: 'toProviderTitle', body: 'toProviderBody' },
  signInUnusable: { status: 400, title: 'signInUnusableTitle', body: 'signInUnusableBody' },
  notRecipient: { status: 403, title: 'notRecipientTitle', body: 'notRecipientBody' },
  unverified: { status: 403, title: 'unverifiedTitle', body: 'unverifiedBody' },
} as const;
export type TPortalState = keyof typeof STATES;

export type RenderStatePageOptions = {
  acceptLanguage: string | null;
  branding: TBranding;
  tenantName: string;
  state: TPortalState;
  sender?: string;
  // Values for the state's text: {address}, {provider}.
  values?: Record<string, string>;
  // A "Continue" button to this address (the fallback of refreshTo).
  continueTo?: string;
  // After a provider's refusal: sign in again with another account of that provider, or go back
  // to the message's other ways to sign in.
  switchAccount?: { action: string; provider: string; isKept: boolean };
  otherWaysTo?: string;
  // Where the page moves on to by itself (a meta refresh: no script), e.g. a provider's sign-in.
  refreshTo?: string;
  // Said in place of the state's own text (the reason a wait is needed, and how long).
  detail?: string;
  // Where "Try again" leads, for the states that pass.
  backTo?: string;
};

// The tenant's button, in inline style: these documents carry no stylesheet.
export const brandButtonStyle = (branding: TBranding): CSSProperties => ({
  display: 'inline-block',
  minHeight: 44,
  lineHeight: '44px',
  padding: '0 24px',
  borderRadius: 6,
  border: 0,
  background: branding.look.primaryColour,
  color: branding.look.buttonTextColour,
  fontWeight: 600,
  fontSize: 16,
  fontFamily: 'inherit',
  textDecoration: 'none',
  cursor: 'pointer',
});

// The state's document and its status.
export async function renderStatePage({
  acceptLanguage,
  branding,
  tenantName,
  state,
  sender = '',
  values = {},
  continueTo,
  switchAccount,
  otherWaysTo,
  refreshTo,
  detail,
  backTo,
}: RenderStatePageOptions): Promise<{ status: number; html: string }> {
  const { locale, t, errorText } = portalText(negotiateLocale(acceptLanguage));
  const { status, title, body } = STATES[state];
  const text =
    detail ??
    (body ? t(body, { sender, address: '', provider: '', ...values }) : errorText(state === 'rateLimited' ? 'RATE_LIMITED' : 'LOCKED_OUT'));
  const name = branding.look.displayName ?? tenantName;
  const html = await renderStaticHtml(
    <html lang={locale}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        {refreshTo ? <meta httpEquiv="refresh" content={`0;url=${refreshTo}`} /> : null}
        <title>{`${t(title, { provider: '', ...values })} – ${name}`}</title>
      </head>
      <body style={{ margin: 0, background: '#f9fafb', color: '#111827', fontFamily: MAIL_FONT, lineHeight: 1.5 }}>
        <header>
          <BrandHeader branding={branding} tenantName={tenantName} />
        </header>
        <main style={{ maxWidth: 672, margin: '0 auto', padding: '24px 16px' }}>
          <h1 style={{ fontSize: 24, fontWeight: 600, margin: 0 }}>{t(title, { provider: '', ...values })}</h1>
          <p style={{ marginTop: 16, overflowWrap: 'anywhere' }}>{text}</p>
          {[
            [backTo, t('tryAgain')],
            [continueTo, t('continue')],
          ].map(([href, label]) =>
            href ? (
              <p key={label} style={{ marginTop: 24 }}>
                <a href={href} style={brandButtonStyle(branding)}>
                  {label}
                </a>
              </p>
            ) : null,
          )}
          {switchAccount ? (
            <form method="post" action={switchAccount.action} style={{ marginTop: 24 }}>
              <input type="hidden" name="provider" value={switchAccount.provider} />
              <input type="hidden" name="switch" value="1" />
              {switchAccount.isKept ? <input type="hidden" name="keep" value="1" /> : null}
              <button type="submit" style={brandButtonStyle(branding)}>
                {t('switchAccount')}
              </button>
            </form>
          ) : null}
          {otherWaysTo ? (
            <p style={{ marginTop: 16 }}>
              <a href={otherWaysTo} style={{ color: 'inherit', display: 'inline-block', minHeight: 44, lineHeight: '44px' }}>
                {t('otherWays')}
              </a>
            </p>
          ) : null}
        </main>
        <footer style={{ maxWidth: 672, margin: '0 auto', padding: '0 16px 32px', fontSize: 14, color: '#4b5563' }}>
          {branding.look.disclaimer ? <p style={{ whiteSpace: 'pre-line' }}>{branding.look.disclaimer}</p> : null}
          {branding.look.privacyUrl ? (
            <p>
              <a href={branding.look.privacyUrl} rel="noopener noreferrer" style={{ color: 'inherit' }}>
                {t('privacy')}
              </a>
            </p>
          ) : null}
        </footer>
      </body>
    </html>,
  );
  return { status, html };
}
