import 'server-only';
import type { CSSProperties, ReactNode } from 'react';
import type { TBranding } from '../../templates/schema';

export type BrandShellProps = { branding: TBranding; tenantName: string; privacyLabel: string; children: ReactNode };

// The tenant's frame around every portal page: its colours as CSS variables, its logo or name.
export function BrandShell({ branding, tenantName, privacyLabel, children }: BrandShellProps) {
  const name = branding.look.displayName ?? tenantName;
  const brand = { '--brand': branding.look.primaryColour, '--brand-text': branding.look.buttonTextColour } as CSSProperties;
  return (
    <div style={brand} className="min-h-screen">
      <header className="bg-[var(--brand)] px-4 py-4 text-[var(--brand-text)] sm:px-6">
        {branding.look.logo ? (
          <img src={branding.look.logo} alt={name} className="h-10 max-w-[200px] object-contain" />
        ) : (
          <p className="text-xl font-semibold">{name}</p>
        )}
      </header>
      <main className="mx-auto max-w-2xl p-4 sm:p-6">{children}</main>
      <footer className="mx-auto max-w-2xl px-4 pb-8 text-sm text-gray-600 sm:px-6">
        {branding.look.disclaimer ? <p className="whitespace-pre-line">{branding.look.disclaimer}</p> : null}
        {branding.look.privacyUrl ? (
          <p className="mt-2">
            <a className="underline" href={branding.look.privacyUrl} rel="noopener noreferrer">
              {privacyLabel}
            </a>
          </p>
        ) : null}
      </footer>
    </div>
  );
}

export const BUTTON =
  'inline-flex min-h-11 items-center justify-center rounded-md bg-[var(--brand)] px-6 py-3 font-semibold text-[var(--brand-text)] focus:outline-none focus-visible:ring-4 focus-visible:ring-offset-2';

// A second choice beside the brand's button: outlined in the brand's colour.
export const SECONDARY_BUTTON =
  'inline-flex min-h-11 items-center justify-center rounded-md border-2 border-[var(--brand)] bg-white px-6 py-3 font-semibold text-[var(--brand)] focus:outline-none focus-visible:ring-4 focus-visible:ring-offset-2';
