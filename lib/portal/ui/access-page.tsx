import 'server-only';
import { headers } from 'next/headers';
import { getPortalText, type TPortalT } from '../../i18n/portal-i18n';
import { getContext } from '../../server/context';
import type { TBranding } from '../../templates/schema';
import { getTenantByHost } from '../../tenants/get-tenant-by-host';
import { getBranding } from '../../templates/get-branding';
import { BrandShell } from './brand-shell';

export type TAccessKind = 'unauthorized' | 'forbidden' | 'notFound';

export type AccessViewProps = {
  kind: TAccessKind;
  t: TPortalT;
  // The tenant whose host was asked for, if it is one.
  tenant?: { name: string; branding: TBranding };
};

// The 401, 403 and 404 pages, in the tenant's branding when the host is a tenant's, and in the
// reader's language. They say what to do, and nothing about the message.
export function AccessView({ kind, t, tenant }: AccessViewProps) {
  const content = (
    <>
      <h1 className="text-2xl font-semibold">{t(`${kind}Title`)}</h1>
      <p className="mt-4">{t(`${kind}Body`)}</p>
    </>
  );
  if (!tenant) return <main className="mx-auto max-w-xl p-6">{content}</main>;
  return (
    <BrandShell branding={tenant.branding} tenantName={tenant.name} privacyLabel={t('privacy')}>
      {content}
    </BrandShell>
  );
}

export type AccessPageProps = { kind: TAccessKind };

// The same drawn by the App Router (app/unauthorized.tsx, forbidden.tsx, not-found.tsx).
export async function AccessPage({ kind }: AccessPageProps) {
  const { t } = await getPortalText();
  const ctx = await getContext();
  // Set by the proxy on its rewrite into the tenant tree (the Host header is then its own).
  const host = (await headers()).get('x-sealpost-host') ?? '';
  const tenant = host ? await getTenantByHost({ db: ctx.db, config: ctx.config, host }) : undefined;
  return (
    <AccessView kind={kind} t={t} tenant={tenant ? { name: tenant.name, branding: await getBranding(ctx.db, tenant.id) } : undefined} />
  );
}
