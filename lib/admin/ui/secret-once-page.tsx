import 'server-only';

export type SecretOncePageProps = {
  tenantName: string;
  title: string;
  // What each value is, and the value: shown this once, never stored in the clear.
  values: Array<{ label: string; value: string }>;
  backTo: string;
  backLabel: string;
};

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#111827;background:#f9fafb}header{background:#111827;color:#fff;padding:12px 16px}main{max-width:48rem;margin:0 auto;padding:16px}code{display:block;word-break:break-all;background:#fff;border:1px solid #6b7280;border-radius:6px;padding:12px;margin-top:4px;font-size:1rem}a{color:#1e40af}dt{font-weight:600;margin-top:16px}dd{margin:0}`;

// A secret made by a form post (an API key, a relay password, an invitation link) is answered by
// this page itself, not by a redirect to one: it is in no URL, no history and no later page.
export function SecretOncePage({ tenantName, title, values, backTo, backLabel }: SecretOncePageProps) {
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
          <p>
            <strong>Copy it now: it is not shown again.</strong>
          </p>
          <dl>
            {values.map((v) => (
              <div key={v.label}>
                <dt>{v.label}</dt>
                <dd>
                  <code>{v.value}</code>
                </dd>
              </div>
            ))}
          </dl>
          <p>
            <a href={backTo}>{backLabel}</a>
          </p>
        </main>
      </body>
    </html>
  );
}
