import 'server-only';
import type { ReactNode } from 'react';

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#111827;background:#f9fafb}header{background:#111827;color:#fff;padding:12px 16px}main{max-width:48rem;margin:0 auto;padding:16px}code{display:block;word-break:break-all;background:#fff;border:1px solid #6b7280;border-radius:6px;padding:12px;margin-top:4px;font-size:1rem}a{color:#1e40af}dt{font-weight:600;margin-top:16px}dd{margin:0;overflow-wrap:anywhere}ul.results{list-style:none;padding:0}ul.results li{border-top:1px solid #9ca3af;padding:12px 0}p.alert{border:1px solid #991b1b;color:#991b1b;border-radius:6px;padding:12px}`;

export type StaticAdminPageProps = { tenantName: string; title: string; children: ReactNode };

// A whole console page a form post answers with itself rather than a redirect (a secret shown
// once, a rule test's outcome): its own small stylesheet, since no Next.js layout wraps it.
export function StaticAdminPage({ tenantName, title, children }: StaticAdminPageProps) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{title}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <p>{tenantName} · Admin</p>
        </header>
        <main>
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}
