import { connectorFormProblem } from '@/lib/admin/connectors/connector-form';
import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';
import { PostButton } from '@/lib/admin/ui/post-button';
import { inboundRouteFormProblem } from '@/lib/admin/connectors/inbound-route-form';
import { listConnectors } from '@/lib/connectors/list-connectors';
import { showInboundRoute } from '@/lib/relay/inbound-route';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const TLS = {
  opportunistic: 'Opportunistic (TLS when offered)',
  required: 'Forced (certificate not checked)',
  verify: 'Forced and verified',
} as const;

// GET /admin/connectors – how mail leaves for each partner domain (host, TLS); add and remove
// (admin or owner); after a refused add (?typed=1) the form holds what was typed, and why
export default async function AdminConnectorsPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0]! : (v ?? '')]));
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/connectors' });
  const connectors = await listConnectors({ db: ctx.db, tenant });
  const inbound = await showInboundRoute({ db: ctx.db, tenant });
  const inboundTyped = raw.inboundTyped === '1' ? raw : {};
  const inboundProblem = raw.inboundTyped === '1' ? inboundRouteFormProblem(raw) : null;
  const canChange = session.admin.role !== 'auditor';
  const typed = raw.typed === '1' ? raw : {};
  const problem =
    raw.typed === '1'
      ? (connectorFormProblem(raw, tenant) ?? (raw.error === 'CONFLICT' ? 'That domain has a connector already: remove it first.' : null))
      : null;
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Connectors</h1>
      <Notice done={raw.done} />
      <p className="mt-2">
        Mail to a domain with a connector goes to its host with its TLS policy; “*” is the default for every other domain.
      </p>
      {connectors.length === 0 ? (
        <p className="mt-4">No connectors: mail goes to each recipient domain's MX, TLS when offered.</p>
      ) : (
        <ul className="mt-4 divide-y divide-gray-300 border-y border-gray-300">
          {connectors.map((c) => (
            <li key={c.domain} className="py-3" data-connector={c.domain}>
              <p className="font-medium break-all">{c.domain === '*' ? '* (every other domain)' : c.domain}</p>
              <p className="text-sm break-words">
                Host: {c.host} · TLS: {TLS[c.tls]}
                {c.tlsName ? ` (name ${c.tlsName})` : ''}
                {c.internal ? ' · Carries decrypted replies' : ''}
              </p>
              {canChange ? (
                <PostButton
                  action="/admin/connectors/remove"
                  fields={{ domain: c.domain }}
                  text="Remove"
                  label={`Remove the connector for ${c.domain}`}
                  isDanger
                  className="mt-2"
                />
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {canChange ? (
        <form method="post" action="/admin/connectors/add" className="mt-6 grid max-w-xl gap-3">
          <h2 className="text-lg font-semibold">Add a connector</h2>
          {problem ? (
            <p role="alert" className="rounded-md border border-red-800 p-3 break-words text-red-800">
              {problem}
            </p>
          ) : null}
          <div>
            <label htmlFor="c-domain" className="font-medium">
              Partner domain (or * for every other domain)
            </label>
            <input id="c-domain" name="domain" required defaultValue={typed.domain ?? ''} className={ADMIN_INPUT} />
          </div>
          <div>
            <label htmlFor="c-host" className="font-medium">
              Host, with an optional :port (empty: the domain's MX)
            </label>
            <input id="c-host" name="host" defaultValue={typed.host ?? ''} className={ADMIN_INPUT} />
          </div>
          <div>
            <label htmlFor="c-tls" className="font-medium">
              TLS
            </label>
            <p id="c-tls-help" className="text-sm">
              Forced: mail waits rather than go without TLS. Verified: the certificate must chain to a trusted CA and name the host (or the
              name below).
            </p>
            <select id="c-tls" name="tls" aria-describedby="c-tls-help" defaultValue={typed.tls ?? 'verify'} className={ADMIN_INPUT}>
              {Object.entries(TLS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="c-tlsName" className="font-medium">
              Certificate name to check (verification only; empty: the host)
            </label>
            <input id="c-tlsName" name="tlsName" defaultValue={typed.tlsName ?? ''} className={ADMIN_INPUT} />
          </div>
          <label className="flex min-h-11 items-center gap-3">
            <input type="checkbox" name="internal" defaultChecked={typed.internal === 'on'} className="h-5 w-5" />
            <span>The organisation's own server: carries decrypted replies (verification only)</span>
          </label>
          <div>
            <button type="submit" className={ADMIN_BUTTON}>
              Add connector
            </button>
          </div>
        </form>
      ) : null}
      <h2 className="mt-10 text-xl font-semibold">Inbound mail</h2>
      <p className="mt-2">
        With an inbound route, mail from outside for {tenant.mail_domain} (its MX, or the gateway's inbound connector, points at the relay)
        goes on to the organisation's own mail host: S/MIME signatures are checked and their certificates learned, and replies encrypted to
        the organisation's certificate can be delivered decrypted.
      </p>
      {'route' in inbound ? (
        <p className="mt-4">No inbound route: the relay refuses mail from outside senders.</p>
      ) : (
        <div className="mt-4 border-y border-gray-300 py-3" data-inbound-route="">
          <p className="text-sm break-words">
            Delivered to: {inbound.deliverTo} · TLS: {TLS[inbound.tls]}
            {inbound.tlsName ? ` (name ${inbound.tlsName})` : ''}
            {inbound.decrypt ? ' · S/MIME to the organisation is delivered decrypted' : ' · S/MIME delivered as it came'}
          </p>
          {canChange ? (
            <PostButton
              action="/admin/connectors/inbound/remove"
              fields={{}}
              text="Remove"
              label="Remove the inbound route"
              isDanger
              className="mt-2"
            />
          ) : null}
        </div>
      )}
      {canChange ? (
        <form method="post" action="/admin/connectors/inbound" className="mt-6 grid max-w-xl gap-3">
          <h3 className="text-lg font-semibold">{'route' in inbound ? 'Set' : 'Replace'} the inbound route</h3>
          {inboundProblem ? (
            <p role="alert" className="rounded-md border border-red-800 p-3 break-words text-red-800">
              {inboundProblem}
            </p>
          ) : null}
          <div>
            <label htmlFor="i-deliverTo" className="font-medium">
              The organisation's mail host, with an optional :port
            </label>
            <input id="i-deliverTo" name="deliverTo" required defaultValue={inboundTyped.deliverTo ?? ''} className={ADMIN_INPUT} />
          </div>
          <div>
            <label htmlFor="i-tls" className="font-medium">
              TLS to the mail host
            </label>
            <select id="i-tls" name="inboundTls" defaultValue={inboundTyped.inboundTls ?? 'verify'} className={ADMIN_INPUT}>
              {Object.entries(TLS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="i-tlsName" className="font-medium">
              Mail host certificate name to check (verification only; empty: the host)
            </label>
            <input id="i-tlsName" name="inboundTlsName" defaultValue={inboundTyped.inboundTlsName ?? ''} className={ADMIN_INPUT} />
          </div>
          <label className="flex min-h-11 items-center gap-3">
            <input
              type="checkbox"
              name="decrypt"
              defaultChecked={raw.inboundTyped === '1' ? inboundTyped.decrypt === 'on' : true}
              className="h-5 w-5"
            />
            <span>Deliver S/MIME mail encrypted to the organisation's certificate decrypted (verification only)</span>
          </label>
          <div>
            <button type="submit" className={ADMIN_BUTTON}>
              Save inbound route
            </button>
          </div>
        </form>
      ) : null}
    </AdminShell>
  );
}
