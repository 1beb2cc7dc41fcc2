import type { Kysely, Transaction } from 'kysely';
import { findUnknownProviderNames } from '../auth/federated/identity-providers';
import { AppError } from '../errors';
import type { TDatabase } from '../store/schema';
import { DEFAULT_TEMPLATE, parseBranding, ZTemplateName, type TBranding } from './schema';

export type SetBrandingOptions = {
  db: Kysely<TDatabase> | Transaction<TDatabase>;
  tenantId: string;
  template?: string;
  input: unknown;
  now?: number;
};

// Creates or replaces a template. Input is the flat JSON `sealpost branding set` takes, or
// `{ look, policy }`; it is stored as `{ look, policy }`.
export async function setBranding({
  db,
  tenantId,
  template = DEFAULT_TEMPLATE,
  input,
  now = Date.now(),
}: SetBrandingOptions): Promise<TBranding> {
  const name = ZTemplateName.safeParse(template);
  if (!name.success) throw new AppError('BAD_REQUEST', `Invalid template name "${template}": ${name.error.issues[0]?.message}`);
  const parsed = parseBranding(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', `Invalid branding: ${parsed.problems.join('; ')}`, { problems: parsed.problems });
  // A template may only offer the tenant's own providers that exist.
  const unknown = await findUnknownProviderNames({ db, tenantId, names: parsed.data.policy.signInMethods.oidc });
  if (unknown.length > 0)
    throw new AppError(
      'BAD_REQUEST',
      `Invalid branding: signInMethods.oidc: no identity provider named ${unknown.join(', ')} (add it with \`sealpost idp add\`)`,
    );
  const json = JSON.stringify(parsed.data);
  await db
    .insertInto('branding')
    .values({ tenant_id: tenantId, name: template, json, updated_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ json, updated_at: now }))
    .execute();
  return parsed.data;
}
