import type { TDb } from '../store/db';
import { DEFAULT_TEMPLATE, parseBranding, ZBranding, type TBranding } from './schema';

// A template's branding. A message names the template it was sent with; a name the tenant no
// longer has falls back to the tenant's default, as the wrapper it was sent in did.
export async function getBranding(db: TDb, tenantId: string, template = DEFAULT_TEMPLATE): Promise<TBranding> {
  const row =
    (await db.selectFrom('branding').select('json').where('tenant_id', '=', tenantId).where('name', '=', template).executeTakeFirst()) ??
    (await db
      .selectFrom('branding')
      .select('json')
      .where('tenant_id', '=', tenantId)
      .where('name', '=', DEFAULT_TEMPLATE)
      .executeTakeFirst());
  if (!row) return ZBranding.parse({});
  // Rows written before look and policy were split are flat; both shapes read the same.
  const parsed = parseBranding(JSON.parse(row.json));
  if (!parsed.success) throw new Error(`Stored template "${template}" no longer validates: ${parsed.problems.join('; ')}`);
  return parsed.data;
}
