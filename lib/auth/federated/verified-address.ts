import { addressDomain, normaliseAddress } from '../../mail/address';
import type { TIdentityProvider } from './identity-providers';

// Microsoft's tenant of personal accounts: their email is the account's own, verified at sign-up.
export const MICROSOFT_CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

export type TVerifiedAddress = { outcome: 'ok'; address: string } | { outcome: 'unverified'; address: string | null };

export type VerifiedAddressOptions = { provider: Pick<TIdentityProvider, 'kind' | 'trustedDomains'>; claims: Record<string, unknown> };

// The address an ID token proves, or why it proves none. A bare `email` claim proves nothing: a
// directory admin or the user can often set it to anything (the nOAuth class of account takeover).
// Only a provider's own assertion that it checked the address counts, and only exactly `true`.
export function verifiedAddress({ provider, claims }: VerifiedAddressOptions): TVerifiedAddress {
  const address = normaliseAddress(claims.email);
  if (!address) return { outcome: 'unverified', address: null };
  const isVerified = (() => {
    switch (provider.kind) {
      case 'google':
        return claims.email_verified === true;
      case 'microsoft':
        // xms_edov: Entra ID says the directory owns the address's domain (verified domain). A
        // personal account's address was verified when the account was made. Microsoft sends
        // no email_verified; one in a token would be a directory's own claim mapping, so it is ignored.
        return claims.xms_edov === true || claims.xms_edov === '1' || claims.xms_edov === 1 || claims.tid === MICROSOFT_CONSUMER_TENANT;
      case 'oidc':
        // A tenant's own provider: its say-so that it checked, or a domain the tenant trusts it for.
        return claims.email_verified === true || provider.trustedDomains.includes(addressDomain(address));
    }
  })();
  return isVerified ? { outcome: 'ok', address } : { outcome: 'unverified', address };
}
