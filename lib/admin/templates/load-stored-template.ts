import type { TDb } from '../../store/db';
import { parseBranding, type TBranding, ZTemplateName } from '../../templates/schema';

export type LoadStoredTemplateOptions = { db: TDb; tenantId: string; template: string };

// A template as stored, or null (a new one, or a name that cannot be one).
export async function loadStoredTemplate({ db, tenantId, template }: LoadStoredTemplateOptions): Promise<TBranding | null> {
  if (!ZTemplateName.safeParse(template).success) return null;
  const row = await db
    .selectFrom('branding')
    .select('json')
    .where('tenant_id', '=', tenantId)
    .where('name', '=', template)
    .executeTakeFirst();
  if (!row) return null;
  const parsed = parseBranding(JSON.parse(row.json));
  return parsed.success ? parsed.data : null;
}
