import 'server-only';
import { headers } from 'next/headers';
import { getPortalText } from '../../i18n/portal-i18n';
import { getContext } from '../../server/context';
import { getTenantByHost } from '../../tenants/get-tenant-by-host';
import { getBranding } from '../../templates/get-branding';
import { BrandShell } from './brand-shell';

export type AccessPageProps = { kind: 'unauthorized' | 'forbidden' | 'notFound' };

// The 401, 403 and 404 pages, in the tenant's branding when the host is a tenant's, and in the
// reader's language. They say what to do, and nothing about the message.
export async function AccessPage({ kind }: AccessPageProps) {
  const { t } = await getPortalText();
  const title = t(`${kind}Title`);
  const body = t(`${kind}Body`);
  const ctx = await getContext();
  // Set by the proxy on its rewrite into the tenant tree (the Host header is then its own).
  const host = (await headers()).get('x-sealpost-host') ?? '';
  const tenant = host ? await getTenantByHost({ db: ctx.db, config: ctx.config, host }) : undefined;
  const content = (
    <>
      <h1 className="text-2xl font-semibold">{title}</h1>
      <p className="mt-4">{body}</p>
    </>
  );
  if (!tenant) return <main className="mx-auto max-w-xl p-6">{content}</main>;
  return (
    <BrandShell branding={await getBranding(ctx.db, tenant.id)} tenantName={tenant.name} privacyLabel={t('privacy')}>
      {content}
    </BrandShell>
  );
}
