import type { TConfig } from '../env';
import type { TDb } from '../store/db';
import type { TTenant } from './tenants';

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export type GetTenantByHostOptions = { db: TDb; config: Pick<TConfig, 'SEALPOST_BASE_DOMAIN'>; host: string };

// Exact match only: `<slug>.<base domain>` or a tenant's own custom domain. Anything else,
// including deeper subdomains and look-alikes, is no tenant.
export async function getTenantByHost({ db, config, host }: GetTenantByHostOptions): Promise<TTenant | undefined> {
  const name = host.toLowerCase().replace(/:\d{1,5}$/, '');
  if (!HOSTNAME.test(name)) return undefined;
  const suffix = `.${config.SEALPOST_BASE_DOMAIN}`;
  const slug = name.endsWith(suffix) ? name.slice(0, -suffix.length) : null;
  if (slug !== null && /^[a-z0-9-]+$/.test(slug)) {
    return db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
  }
  return db.selectFrom('tenants').selectAll().where('custom_domain', '=', name).executeTakeFirst();
}
