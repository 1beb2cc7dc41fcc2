import type { TDb } from '../store/db';
import { parseBranding, type TBranding } from './schema';

export type TTemplateSummary = { name: string; branding: TBranding; updatedAt: number };

export type ListTemplatesOptions = { db: TDb; tenantId: string };

// A tenant's templates by name, `default` among them.
export async function listTemplates({ db, tenantId }: ListTemplatesOptions): Promise<TTemplateSummary[]> {
  const rows = await db
    .selectFrom('branding')
    .select(['name', 'json', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .orderBy('name')
    .execute();
  return rows.flatMap((row) => {
    const parsed = parseBranding(JSON.parse(row.json));
    return parsed.success ? [{ name: row.name, branding: parsed.data, updatedAt: row.updated_at }] : [];
  });
}
