import 'server-only';
import type { ReactNode } from 'react';
import { renderStaticHtml } from '../../mail/templates/brand-header';
import { BODY_CLASS, SITE } from './site';

export type PortalDocumentOptions = { locale: string; stylesheets: string[]; children: ReactNode };

// A whole portal page rendered on the server without the App Router: the root layout's document
// around it, its stylesheets linked (scripts/server.mjs puts them inside the document, as for
// every recipient page), no script. Not for search engines: it is one person's.
export async function portalDocument({ locale, stylesheets, children }: PortalDocumentOptions): Promise<string> {
  return renderStaticHtml(
    <html lang={locale}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        {stylesheets.map((href) => (
          <link key={href} rel="stylesheet" href={href} />
        ))}
        <title>{SITE.title}</title>
        <meta name="description" content={SITE.description} />
      </head>
      <body className={BODY_CLASS}>{children}</body>
    </html>,
  );
}
