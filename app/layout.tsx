import type { Metadata, Viewport } from 'next';
import { getPortalText } from '@/lib/i18n/portal-i18n';
import './globals.css';

export const metadata: Metadata = { title: 'Sealpost', description: 'Encrypted email for organisations' };
export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const { locale } = await getPortalText();
  return (
    <html lang={locale}>
      <body className="min-h-screen bg-gray-50 text-gray-900 antialiased">{children}</body>
    </html>
  );
}
