import type { CSSProperties } from 'react';
import { loadTenantPage } from '@/lib/tenants/load-tenant-page';

export const dynamic = 'force-dynamic';

// GET / on a tenant host – the branded portal's front door
export default async function TenantHomePage({ params }: { params: Promise<{ host: string }> }) {
  const { tenant, branding } = await loadTenantPage({ host: (await params).host });
  const name = branding.displayName ?? tenant.name;
  const brand = { '--brand': branding.primaryColour, '--brand-text': branding.buttonTextColour } as CSSProperties;
  return (
    <div style={brand} className="min-h-screen">
      <header className="bg-[var(--brand)] px-4 py-4 text-[var(--brand-text)] sm:px-6">
        <p className="text-xl font-semibold">{name}</p>
      </header>
      <main className="mx-auto max-w-xl p-4 sm:p-6">
        <h1 className="text-2xl font-semibold">{`Secure messages from ${name}`}</h1>
        {branding.portalText ? <p className="mt-4 whitespace-pre-line">{branding.portalText}</p> : null}
        <p className="mt-4">
          To read a message, open the link in the email you received, or open its <code>message.html</code> attachment and
          select “Read the message”.
        </p>
        {branding.privacyUrl ? (
          <p className="mt-6 text-sm">
            <a className="underline" href={branding.privacyUrl} rel="noopener noreferrer">
              Privacy statement
            </a>
          </p>
        ) : null}
      </main>
    </div>
  );
}
