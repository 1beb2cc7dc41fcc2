import type { TConfig } from '../env';
import { bareHost, publicOrigin } from '../tenants/tenants';

export type TRelyingParty = { rpID: string; origin: string; name: string };

export type RelyingPartyOptions = { config: Pick<TConfig, 'publicScheme' | 'publicPort'>; host: string; tenantName: string };

// Passkeys belong to exactly the tenant host they were made on (its slug host or custom domain,
// as the request reached it): a passkey for one tenant's console is never offered on another's.
export function relyingParty({ config, host, tenantName }: RelyingPartyOptions): TRelyingParty {
  const rpID = bareHost(host);
  return { rpID, origin: publicOrigin(config, rpID), name: `${tenantName} admin` };
}
