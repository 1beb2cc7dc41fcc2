import { loadAdminPage } from '@/lib/admin/load-admin-page';
import { ADMIN_BUTTON, ADMIN_DANGER_BUTTON, ADMIN_INPUT, AdminShell } from '@/lib/admin/ui/admin-shell';
import { Notice } from '@/lib/admin/ui/notice';
import { listIdentityProviders } from '@/lib/auth/federated/tenant-identity-providers';

export const dynamic = 'force-dynamic';

type TProps = { params: Promise<{ host: string }>; searchParams: Promise<{ done?: string; error?: string }> };

const ERRORS = {
  DISCOVERY:
    'The discovery check failed: the issuer’s /.well-known/openid-configuration could not be read, or names another issuer. Nothing was saved.',
  CONFLICT: 'This tenant already has a provider with that name.',
  BAD_REQUEST:
    'Check the form: the name is 1–32 lowercase letters and digits, the issuer an https:// URL, and the client id and secret are required.',
};

const FIELDS = [
  { name: 'name', label: 'Name (lowercase letters and digits, used in templates)', type: 'text', pattern: '[a-z0-9]{1,32}' },
  { name: 'displayName', label: 'Display name (on the button)', type: 'text' },
  { name: 'issuer', label: 'Issuer URL', type: 'url' },
  { name: 'clientId', label: 'Client id', type: 'text' },
  { name: 'clientSecret', label: 'Client secret', type: 'password' },
] as const;

// GET /admin/identity-providers – the tenant's own OpenID providers: list, add (the discovery
// check first), remove, and whether admins sign in with one
export default async function AdminIdentityProvidersPage({ params, searchParams }: TProps) {
  const { host } = await params;
  const { ctx, tenant, session } = await loadAdminPage({ host, path: '/admin/identity-providers' });
  const providers = await listIdentityProviders({ ctx, tenant });
  const canChange = session.admin.role !== 'auditor';
  const isOwner = session.admin.role === 'owner';
  return (
    <AdminShell tenantName={tenant.name} session={session}>
      <h1 className="text-2xl font-semibold">Identity providers</h1>
      <Notice {...(await searchParams)} errors={ERRORS} />
      <p className="mt-2">
        Readers sign in with a provider a message’s template lists (Templates, “identity providers offered”); admins with one opened to them
        here.
      </p>
      {providers.length === 0 ? <p className="mt-4">This tenant has no identity provider of its own.</p> : null}
      <ul className="mt-4 divide-y divide-gray-300 border-y border-gray-300">
        {providers.map((p) => (
          <li key={p.id} className="py-3" data-provider={p.name}>
            <p className="font-medium break-all">
              {p.displayName} ({p.name})
            </p>
            <dl className="mt-1 grid gap-x-3 text-sm sm:grid-cols-[auto_1fr]">
              <dt className="font-semibold">Issuer</dt>
              <dd className="mb-1 break-all sm:mb-0">{p.issuer}</dd>
              <dt className="font-semibold">Client id</dt>
              <dd className="mb-1 break-all sm:mb-0">{p.clientId}</dd>
              <dt className="font-semibold">Redirect URI to register</dt>
              <dd className="mb-1 break-all sm:mb-0">
                <code>{p.redirectUri}</code>
              </dd>
              <dt className="font-semibold">Trusted for</dt>
              <dd className="mb-1 break-all sm:mb-0">
                {p.trustedDomains.length > 0 ? p.trustedDomains.join(', ') : 'only verified addresses'}
              </dd>
              <dt className="font-semibold">Admins sign in with it</dt>
              <dd className="mb-1 sm:mb-0" data-for-admins={p.forAdmins ? 'yes' : 'no'}>
                {p.forAdmins ? 'yes' : 'no'}
              </dd>
            </dl>
            <div className="mt-2 flex flex-wrap gap-3">
              {isOwner ? (
                <form method="post" action="/admin/identity-providers/admins">
                  <input type="hidden" name="name" value={p.name} />
                  <input type="hidden" name="forAdmins" value={p.forAdmins ? '0' : '1'} />
                  <button type="submit" className={ADMIN_BUTTON}>
                    {p.forAdmins ? `Stop admin sign-in with ${p.displayName}` : `Let admins sign in with ${p.displayName}`}
                  </button>
                </form>
              ) : null}
              {canChange ? (
                <form method="post" action="/admin/identity-providers/remove">
                  <input type="hidden" name="name" value={p.name} />
                  <button type="submit" className={ADMIN_DANGER_BUTTON} aria-label={`Remove identity provider ${p.displayName}`}>
                    Remove
                  </button>
                </form>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
      {canChange ? (
        <form method="post" action="/admin/identity-providers/add" className="mt-6 grid max-w-xl gap-3">
          <h2 className="text-lg font-semibold">Add a provider</h2>
          <p>Its discovery document is read before anything is saved; the client secret is stored sealed under the tenant key.</p>
          {FIELDS.map((f) => (
            <div key={f.name}>
              <label htmlFor={`idp-${f.name}`} className="font-medium">
                {f.label}
              </label>
              <input
                id={`idp-${f.name}`}
                name={f.name}
                type={f.type}
                required
                autoComplete="off"
                pattern={'pattern' in f ? f.pattern : undefined}
                className={ADMIN_INPUT}
              />
            </div>
          ))}
          <div>
            <label htmlFor="idp-trustedDomains" className="font-medium">
              Mail domains it may assert without email_verified (optional, comma-separated; readers only)
            </label>
            <input id="idp-trustedDomains" name="trustedDomains" type="text" autoComplete="off" className={ADMIN_INPUT} />
          </div>
          {isOwner ? (
            <label className="flex min-h-11 items-center gap-2">
              <input type="checkbox" name="forAdmins" className="size-5" />
              Admins may sign in to this console with it
            </label>
          ) : null}
          <div>
            <button type="submit" className={ADMIN_BUTTON}>
              Check and add provider
            </button>
          </div>
        </form>
      ) : null}
    </AdminShell>
  );
}
