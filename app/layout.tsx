import type { Metadata, Viewport } from 'next';
import { getPortalText } from '@/lib/i18n/portal-i18n';
import { BODY_CLASS, SITE } from '@/lib/portal/ui/site';
import './globals.css';

export const metadata: Metadata = { ...SITE };
export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const { locale } = await getPortalText();
  return (
    <html lang={locale}>
      <body className={BODY_CLASS}>{children}</body>
    </html>
  );
}
