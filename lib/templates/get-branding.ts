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
  const cached = validated.get(row.json);
  if (cached) return structuredClone(cached);
  // Rows written before look and policy were split are flat; both shapes read the same.
  const parsed = parseBranding(JSON.parse(row.json));
  if (!parsed.success) throw new Error(`Stored template "${template}" no longer validates: ${parsed.problems.join('; ')}`);
  if (validated.size >= VALIDATED_MAX) validated.delete(validated.keys().next().value!);
  validated.set(row.json, parsed.data);
  return structuredClone(parsed.data);
}

// Templates validated before, by their exact stored text: the row is read every time (an edit
// counts at once, on every instance), the schema checks a text once.
const validated = new Map<string, TBranding>();
const VALIDATED_MAX = 200;
