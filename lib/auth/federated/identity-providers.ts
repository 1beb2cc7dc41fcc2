import type { Kysely, Transaction } from 'kysely';
import { deriveKey, openBytes } from '../../envelope/aead';
import { getTenantKey } from '../../envelope/tenant-keys';
import type { TConfig } from '../../env';
import type { TContext } from '../../server/context';
import type { TDatabase } from '../../store/schema';
import type { TBranding } from '../../templates/schema';
import type { TTenant } from '../../tenants/tenants';

// How a provider proves an address: Google's email_verified, Microsoft's verified-domain claims,
// or a tenant's own issuer (email_verified, or the domains the tenant trusts it for).
export type TProviderKind = 'google' | 'microsoft' | 'oidc';

export type TIdentityProvider = {
  id: string;
  kind: TProviderKind;
  label: string;
  issuer: string;
  clientId: string;
  trustedDomains: string[];
  // The tenant a tenant's own provider belongs to; the operator's Google and Microsoft serve all.
  tenantId: string | null;
  // Whether the tenant's admins may sign in to the console with it (only a tenant's own, when set).
  forAdmins: boolean;
};

// A tenant provider's client secret is sealed under a subkey of the tenant key, bound to its row.
export const identityProviderSecretKey = (tenantKey: Uint8Array) => deriveKey(tenantKey, 'identity-provider-secret');
export const identityProviderSecretAad = (tenantId: string, providerId: string) => `sealpost:idp-secret:v1:${tenantId}:${providerId}`;

// The operator's registrations, from the environment: present only when configured.
export function builtInProviders(config: TConfig): TIdentityProvider[] {
  const providers: TIdentityProvider[] = [];
  if (config.SEALPOST_MICROSOFT_CLIENT_ID) {
    providers.push({
      id: 'microsoft',
      kind: 'microsoft',
      label: 'Microsoft',
      issuer: config.SEALPOST_MICROSOFT_ISSUER,
      clientId: config.SEALPOST_MICROSOFT_CLIENT_ID,
      trustedDomains: [],
      tenantId: null,
      forAdmins: false,
    });
  }
  if (config.SEALPOST_GOOGLE_CLIENT_ID) {
    providers.push({
      id: 'google',
      kind: 'google',
      label: 'Google',
      issuer: config.SEALPOST_GOOGLE_ISSUER,
      clientId: config.SEALPOST_GOOGLE_CLIENT_ID,
      trustedDomains: [],
      tenantId: null,
      forAdmins: false,
    });
  }
  return providers;
}

const fromRow = (row: {
  id: string;
  display_name: string;
  issuer: string;
  client_id: string;
  trusted_domains: string;
  tenant_id: string;
  for_admins: number;
}): TIdentityProvider => ({
  id: row.id,
  kind: 'oidc',
  label: row.display_name,
  issuer: row.issuer,
  clientId: row.client_id,
  trustedDomains: JSON.parse(row.trusted_domains) as string[],
  tenantId: row.tenant_id,
  forAdmins: row.for_admins === 1,
});

export type ListOfferedProvidersOptions = { ctx: TContext; tenant: TTenant; branding: TBranding };

// The providers a message's sign-in page offers: what its template turns on, among what exists.
export async function listOfferedProviders({ ctx, tenant, branding }: ListOfferedProvidersOptions): Promise<TIdentityProvider[]> {
  const methods = branding.policy.signInMethods;
  const builtIn = builtInProviders(ctx.config).filter((p) => methods[p.kind as 'google' | 'microsoft']);
  if (methods.oidc.length === 0) return builtIn;
  const rows = await ctx.db
    .selectFrom('identity_providers')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .where('name', 'in', methods.oidc)
    .execute();
  const own = methods.oidc.flatMap((name) => rows.filter((r) => r.name === name).map(fromRow));
  return [...builtIn, ...own];
}

export type FindUnknownProviderNamesOptions = { db: Kysely<TDatabase> | Transaction<TDatabase>; tenantId: string; names: string[] };

// The names among `names` that are not providers of this tenant (for a template that offers them).
export async function findUnknownProviderNames({ db, tenantId, names }: FindUnknownProviderNamesOptions): Promise<string[]> {
  if (names.length === 0) return [];
  const known = new Set(
    (await db.selectFrom('identity_providers').select('name').where('tenant_id', '=', tenantId).execute()).map((r) => r.name),
  );
  return names.filter((n) => !known.has(n));
}

export type GetProviderOptions = { ctx: TContext; tenantId: string; providerId: string };

// One provider by id, for a sign-in of this tenant: a tenant's own provider only for its tenant.
export async function getProvider({ ctx, tenantId, providerId }: GetProviderOptions): Promise<TIdentityProvider | undefined> {
  const builtIn = builtInProviders(ctx.config).find((p) => p.id === providerId);
  if (builtIn) return builtIn;
  if (!providerId.startsWith('oidc-') || providerId.length > 80) return undefined;
  const row = await ctx.db
    .selectFrom('identity_providers')
    .selectAll()
    .where('id', '=', providerId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

// The client secret, only when a sign-in needs it: from the environment, or unsealed with the
// tenant key it was sealed under.
export async function providerClientSecret(ctx: TContext, provider: TIdentityProvider): Promise<string> {
  if (provider.kind === 'google') return ctx.config.SEALPOST_GOOGLE_CLIENT_SECRET!;
  if (provider.kind === 'microsoft') return ctx.config.SEALPOST_MICROSOFT_CLIENT_SECRET!;
  const row = await ctx.db
    .selectFrom('identity_providers')
    .select(['client_secret', 'key_version', 'tenant_id'])
    .where('id', '=', provider.id)
    .executeTakeFirstOrThrow();
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: row.tenant_id, version: row.key_version });
  return openBytes({
    key: identityProviderSecretKey(tenantKey.key),
    sealed: row.client_secret,
    aad: identityProviderSecretAad(row.tenant_id, provider.id),
  }).toString('utf8');
}
