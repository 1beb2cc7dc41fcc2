import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_BUTTON, ADMIN_DANGER_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';
import { checkCustomDomain, customDomainTarget, type TDomainCheck } from '@/lib/tenants/check-custom-domain';
import { tenantHost } from '@/lib/tenants/tenants';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ done?: string; error?: string }> };

const ERRORS = {
  BAD_REQUEST: 'That is not a domain this portal can use: give a host name (not an IP address, not one of the service’s own hosts).',
  CONFLICT: 'Another tenant already uses that domain.',
};

const CHECK_TEXT: Record<TDomainCheck['state'], string> = {
  ok: 'It resolves to this service now.',
  elsewhere: 'It resolves, but not to this service yet.',
  missing: 'It does not resolve yet.',
  unanswered: 'DNS did not answer in time; try again later.',
};

// GET /admin/domain – the portal's own domain (exact host match): set or clear it; the DNS record
// to create, and whether it resolves now
export default async function AdminDomainPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/domain' });
  const domain = tenant.custom_domain;
  const target = customDomainTarget(ctx.config, tenant);
  const check = domain ? await checkCustomDomain({ domain, target }) : null;
  const canChange = session.admin.role !== 'auditor';
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Custom domain</h1>
      <Notice {...(await searchParams)} errors={ERRORS} />
      <p className="mt-2 break-words">
        The portal is always at <code>{tenantHost(ctx.config, tenant)}</code>. With a domain of your own, links in new mail name that domain
        instead: create its DNS record (and its TLS certificate) before you save it.
      </p>
      {domain ? (
        <section aria-labelledby="dns-heading" className="mt-4">
          <h2 id="dns-heading" className="text-lg font-semibold">
            Current domain: <span className="break-all">{domain}</span>
          </h2>
          <p className="mt-2">Create this DNS record:</p>
          <dl className="mt-1 grid gap-x-3 sm:grid-cols-[auto_1fr]" data-dns-record>
            <dt className="font-semibold">Name</dt>
            <dd className="mb-1 break-all sm:mb-0">
              <code>{domain}</code>
            </dd>
            <dt className="font-semibold">Type</dt>
            <dd className="mb-1 sm:mb-0">
              <code>CNAME</code>
            </dd>
            <dt className="font-semibold">Value</dt>
            <dd className="mb-1 break-all sm:mb-0">
              <code>{target}.</code>
            </dd>
          </dl>
          <p className="mt-2 text-sm">At a zone’s apex, where a CNAME is not allowed, use your DNS host’s ALIAS or flattening record.</p>
          <p className="mt-2 font-medium" data-dns-state={check?.state}>
            {check ? CHECK_TEXT[check.state] : null}
            {check?.state === 'elsewhere' ? ` Found: ${check.found.join(', ')}` : null}
          </p>
        </section>
      ) : (
        <p className="mt-4">This tenant has no custom domain.</p>
      )}
      {canChange ? (
        <>
          <form method="post" action="/admin/domain/save" className="mt-6 flex max-w-xl flex-wrap items-end gap-3">
            <div className="grow">
              <label htmlFor="custom-domain" className="font-medium">
                Domain
              </label>
              <input
                id="custom-domain"
                name="domain"
                type="text"
                inputMode="url"
                autoComplete="off"
                required
                maxLength={253}
                defaultValue={domain ?? ''}
                className={ADMIN_INPUT}
              />
            </div>
            <button type="submit" className={ADMIN_BUTTON}>
              Save domain
            </button>
          </form>
          {domain ? (
            <form method="post" action="/admin/domain/save" className="mt-4">
              <input type="hidden" name="clear" value="1" />
              <button type="submit" className={ADMIN_DANGER_BUTTON}>
                Clear the custom domain
              </button>
            </form>
          ) : null}
        </>
      ) : null}
    </AdminShell>
  );
}
