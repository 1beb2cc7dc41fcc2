import net from 'node:net';
import { z } from 'zod';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TConfig } from '../env';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import { isUniqueViolation, type TTenant } from './tenants';

// A portal host of the tenant's own, matched exactly (getTenantByHost): a DNS name of at least two
// labels whose last is letters, so never an IP address.
const ZCustomDomain = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s) => s.replace(/\.$/, ''))
  .pipe(
    z
      .string()
      .regex(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
        'must be a host name such as secure.example.com',
      )
      .refine((s) => net.isIP(s) === 0 && !/^[0-9.]+$/.test(s), 'must be a host name, not an IP address'),
  );

// The service's own names: its base domain and every name under it (tenant hosts, the auth host),
// the auth host and the CNAME target wherever they are.
export function isServiceHost(config: Pick<TConfig, 'SEALPOST_BASE_DOMAIN' | 'authHost' | 'SEALPOST_CNAME_TARGET'>, host: string) {
  const base = config.SEALPOST_BASE_DOMAIN;
  return (
    host === base ||
    host.endsWith(`.${base}`) ||
    host === config.authHost ||
    host === config.SEALPOST_CNAME_TARGET ||
    host === 'localhost' ||
    host.endsWith('.localhost')
  );
}

export type SetCustomDomainOptions = {
  db: TDb;
  config: Pick<TConfig, 'SEALPOST_BASE_DOMAIN' | 'authHost' | 'SEALPOST_CNAME_TARGET'>;
  tenant: TTenant;
  // Empty or null: the tenant has no custom domain any more.
  domain: string | null;
  actor: string;
  now?: number;
};

// Sets (or clears) the portal's own domain. Refused: anything but a host name, an IP address, one
// of the service's own hosts, and a domain another tenant has (the unique index decides a race).
export async function setCustomDomain({ db, config, tenant, domain, actor, now = Date.now() }: SetCustomDomainOptions) {
  let next: string | null = null;
  if (domain?.trim()) {
    const parsed = ZCustomDomain.safeParse(domain);
    if (!parsed.success) throw new AppError('BAD_REQUEST', `Invalid custom domain: ${parsed.error.issues[0]?.message}`);
    if (isServiceHost(config, parsed.data)) throw new AppError('BAD_REQUEST', 'That host is one of the service’s own.');
    next = parsed.data;
  }
  try {
    return await runTransaction({
      db,
      work: async (trx) => {
        const current = await trx.selectFrom('tenants').select('custom_domain').where('id', '=', tenant.id).executeTakeFirstOrThrow();
        if (current.custom_domain === next) return { customDomain: next };
        if (next) {
          const holder = await trx.selectFrom('tenants').select('id').where('custom_domain', '=', next).executeTakeFirst();
          if (holder) throw new AppError('CONFLICT', 'Another tenant already uses that domain.');
        }
        await trx.updateTable('tenants').set({ custom_domain: next }).where('id', '=', tenant.id).execute();
        await recordAudit(trx, {
          tenantId: tenant.id,
          type: 'custom_domain_changed',
          actor,
          data: { before: JSON.stringify({ customDomain: current.custom_domain }), after: JSON.stringify({ customDomain: next }) },
          at: now,
        });
        return { customDomain: next };
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', 'Another tenant already uses that domain.');
    throw error;
  }
}
