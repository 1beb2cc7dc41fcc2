import { AppError } from '../errors';
import { createDkimKey, type CreateDkimKeyOptions } from './create-dkim-key';

export type RotateDkimKeysOptions = Omit<CreateDkimKeyOptions, 'isRotation' | 'algorithm'>;

// A new selector for every algorithm the domain signs with now; the old keys stop signing at
// once and stay listed (their records published) for DKIM_RETIRED_KEEP_MS, then housekeeping
// removes them.
export async function rotateDkimKeys({ ctx, tenant, domain, selector, now = Date.now() }: RotateDkimKeysOptions) {
  const d = (domain ?? tenant.mail_domain).toLowerCase();
  const signing = await ctx.db
    .selectFrom('dkim_keys')
    .select('algorithm')
    .where('tenant_id', '=', tenant.id)
    .where('domain', '=', d)
    .where('retired_at', 'is', null)
    .orderBy('algorithm')
    .execute();
  if (!signing.length) throw new AppError('NOT_FOUND', `${d} has no signing DKIM key: create one with \`sealpost dkim create\``);
  if (selector && signing.length > 1) throw new AppError('BAD_REQUEST', `${d} signs with ${signing.length} keys: leave --selector out`);
  const created = [];
  for (const { algorithm } of signing)
    created.push(await createDkimKey({ ctx, tenant, domain: d, selector, algorithm, isRotation: true, now }));
  return created;
}
