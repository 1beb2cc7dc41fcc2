import type { TConfig } from '../env';
import type { TOutboxTable, TTenantTable } from '../store/schema';
import { addressDomain } from './address';

type TSenderConfig = Pick<TConfig, 'SEALPOST_SYSTEM_LOCAL_PART' | 'SEALPOST_BOUNCE_DOMAIN'>;

// The address mail Sealpost writes in the tenant's name comes from: on its mail domain, so the
// tenant's DKIM signature and SPF record align with it (DMARC).
export const systemAddress = (config: TSenderConfig, tenant: Pick<TTenantTable, 'mail_domain'>) =>
  `${config.SEALPOST_SYSTEM_LOCAL_PART}@${tenant.mail_domain}`;

export const isOnMailDomain = (address: string, tenant: Pick<TTenantTable, 'mail_domain'>) => {
  const domain = addressDomain(address);
  const own = tenant.mail_domain.toLowerCase();
  return domain === own || domain.endsWith(`.${own}`);
};

export type SmtpEnvelopeSenderOptions = {
  config: TSenderConfig;
  tenant: Pick<TTenantTable, 'mail_domain'>;
  row: Pick<TOutboxTable, 'kind' | 'mail_from'>;
};

// MAIL FROM for one outbox mail. Relayed mail keeps its own. Mail we wrote goes from the bounce
// domain when one is configured, else from the author when they are on the tenant's domain, else
// (a reader's reply or forward: their Gmail's SPF does not list our servers) from the tenant.
export function smtpEnvelopeSender({ config, tenant, row }: SmtpEnvelopeSenderOptions): string {
  if (row.kind === 'passthrough') return row.mail_from;
  if (config.SEALPOST_BOUNCE_DOMAIN) return `${config.SEALPOST_SYSTEM_LOCAL_PART}@${config.SEALPOST_BOUNCE_DOMAIN}`;
  return isOnMailDomain(row.mail_from, tenant) ? row.mail_from : systemAddress(config, tenant);
}
