import 'server-only';
import { StaticAdminPage } from './static-admin-page';

export type SecretOncePageProps = {
  tenantName: string;
  title: string;
  // What each value is, and the value: shown this once, never stored in the clear.
  values: Array<{ label: string; value: string }>;
  backTo: string;
  backLabel: string;
};

// A secret made by a form post (an API key, a relay password, an invitation link) is answered by
// this page itself, not by a redirect to one: it is in no URL, no history and no later page.
export function SecretOncePage({ tenantName, title, values, backTo, backLabel }: SecretOncePageProps) {
  return (
    <StaticAdminPage tenantName={tenantName} title={title}>
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
    </StaticAdminPage>
  );
}
