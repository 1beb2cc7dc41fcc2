import { Issuer } from 'openid-client';
import { z } from 'zod';
import { sealBytes } from '../../envelope/aead';
import { getTenantKey } from '../../envelope/tenant-keys';
import { ZIssuer } from '../../env';
import { AppError } from '../../errors';
import type { TContext } from '../../server/context';
import { ZMailDomain, type TTenant } from '../../tenants/tenants';
import { callbackUrl } from './auth-host';
import { identityProviderSecretAad, identityProviderSecretKey } from './identity-providers';

export const ZIdentityProviderName = z.string().regex(/^[a-z0-9]{1,32}$/, 'a provider name is 1–32 lowercase letters and digits');

const ZAddIdentityProvider = z.object({
  name: ZIdentityProviderName,
  displayName: z
    .string()
    .trim()
    .min(1)
    .max(60)
    .refine((s) => !/[\u0000-\u001f\u007f<>]/.test(s), 'must not contain control characters or angle brackets'),
  issuer: ZIssuer,
  clientId: z.string().min(1).max(512),
  clientSecret: z.string().min(1).max(2048),
  trustedDomains: z.array(ZMailDomain).max(50).default([]),
  // Whether the tenant's admins may sign in to the console with it (never unless asked).
  forAdmins: z.boolean().default(false),
});
export type TAddIdentityProvider = z.input<typeof ZAddIdentityProvider>;

export type AddIdentityProviderOptions = { ctx: TContext; tenant: TTenant; input: TAddIdentityProvider; now?: number };

// A tenant's own OpenID provider. Its discovery document is fetched now, so a mistyped issuer is
// caught here and not by a recipient; the client secret is stored sealed under the tenant key.
export async function addIdentityProvider({ ctx, tenant, input, now = Date.now() }: AddIdentityProviderOptions) {
  const parsed = ZAddIdentityProvider.safeParse(input);
  if (!parsed.success)
    throw new AppError(
      'BAD_REQUEST',
      `Invalid identity provider: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const { name, displayName, issuer, clientId, clientSecret, trustedDomains, forAdmins } = parsed.data;
  const id = `oidc-${tenant.slug}-${name}`;
  if (await ctx.db.selectFrom('identity_providers').select('id').where('id', '=', id).executeTakeFirst()) {
    throw new AppError('CONFLICT', `Tenant ${tenant.slug} already has a provider named "${name}"`);
  }
  let discovered: string;
  try {
    discovered = (await Issuer.discover(issuer)).metadata.issuer;
  } catch (error) {
    throw new AppError('BAD_REQUEST', `Could not read ${issuer}/.well-known/openid-configuration: ${(error as Error).message}`, {
      reason: 'discovery',
    });
  }
  // The ID tokens will be checked against the discovered issuer: it must be the one configured.
  if (discovered.replace(/\/$/, '') !== issuer.replace(/\/$/, ''))
    throw new AppError('BAD_REQUEST', `The discovery document names another issuer (${discovered})`, { reason: 'discovery' });
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const sealed = sealBytes({
    key: identityProviderSecretKey(tenantKey.key),
    plaintext: Buffer.from(clientSecret, 'utf8'),
    aad: identityProviderSecretAad(tenant.id, id),
  });
  await ctx.db
    .insertInto('identity_providers')
    .values({
      id,
      tenant_id: tenant.id,
      name,
      display_name: displayName,
      issuer: discovered,
      client_id: clientId,
      client_secret: sealed,
      key_version: tenantKey.version,
      trusted_domains: JSON.stringify(trustedDomains),
      for_admins: forAdmins ? 1 : 0,
      created_at: now,
    })
    .execute();
  return { id, name, displayName, issuer: discovered, trustedDomains, forAdmins, redirectUri: callbackUrl(ctx.config, id) };
}

export type ListIdentityProvidersOptions = { ctx: TContext; tenant: TTenant };

// What an admin may see of a tenant's providers: never the secret.
export async function listIdentityProviders({ ctx, tenant }: ListIdentityProvidersOptions) {
  const rows = await ctx.db
    .selectFrom('identity_providers')
    .select(['id', 'name', 'display_name', 'issuer', 'client_id', 'trusted_domains', 'for_admins'])
    .where('tenant_id', '=', tenant.id)
    .orderBy('name')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    displayName: r.display_name,
    issuer: r.issuer,
    clientId: r.client_id,
    trustedDomains: JSON.parse(r.trusted_domains) as string[],
    forAdmins: r.for_admins === 1,
    redirectUri: callbackUrl(ctx.config, r.id),
  }));
}

export type RemoveIdentityProviderOptions = { ctx: TContext; tenant: TTenant; name: string };

export async function removeIdentityProvider({ ctx, tenant, name }: RemoveIdentityProviderOptions) {
  const result = await ctx.db
    .deleteFrom('identity_providers')
    .where('tenant_id', '=', tenant.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new AppError('NOT_FOUND', `Tenant ${tenant.slug} has no provider named "${name}"`);
  return { removed: name };
}

export type SetProviderForAdminsOptions = { ctx: Pick<TContext, 'db'>; tenant: TTenant; name: string; forAdmins: boolean };

// Whether the tenant's admins may sign in to the console with one of its providers.
export async function setProviderForAdmins({ ctx, tenant, name, forAdmins }: SetProviderForAdminsOptions) {
  const result = await ctx.db
    .updateTable('identity_providers')
    .set({ for_admins: forAdmins ? 1 : 0 })
    .where('tenant_id', '=', tenant.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', `Tenant ${tenant.slug} has no provider named "${name}"`);
  return { name, forAdmins };
}
