import { normaliseAddress } from '../../mail/address';
import type { TDb } from '../../store/db';
import type { TIdentityProvider } from './identity-providers';

export type JudgeAdminIdentityOptions = {
  db: TDb;
  tenantId: string;
  provider: Pick<TIdentityProvider, 'forAdmins'>;
  claims: Record<string, unknown>;
};

export type TAdminIdentity = { outcome: 'ok' | 'not_admin' | 'unverified'; address: string | null };

// Who an ID token proves for the admin console. Stricter than for a reader: only the provider's
// own email_verified, exactly true, counts (a domain the tenant trusts the provider for is not
// enough to become an owner), the provider must be one the tenant opened to its admins, and the
// address must be an admin's of this tenant.
export async function judgeAdminIdentity({ db, tenantId, provider, claims }: JudgeAdminIdentityOptions): Promise<TAdminIdentity> {
  const address = normaliseAddress(claims.email);
  if (!address || claims.email_verified !== true) return { outcome: 'unverified', address };
  if (!provider.forAdmins) return { outcome: 'not_admin', address };
  const admin = await db
    .selectFrom('admins')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('email', '=', address.toLowerCase())
    .executeTakeFirst();
  return { outcome: admin ? 'ok' : 'not_admin', address };
}
