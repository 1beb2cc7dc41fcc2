import { recordAudit } from '../../audit/record-audit';
import type { TDb } from '../../store/db';
import { setBranding } from '../../templates/set-branding';

export type SaveTemplateOptions = { db: TDb; tenantId: string; template: string; input: unknown; actor: string; now?: number };

// setBranding (validated as the CLI's), and the change in the audit log: before and after. A logo
// is recorded only as whether there is one (a data: URL is up to 140 KB).
export async function saveTemplate({ db, tenantId, template, input, actor, now = Date.now() }: SaveTemplateOptions) {
  return db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('branding')
      .select('json')
      .where('tenant_id', '=', tenantId)
      .where('name', '=', template)
      .executeTakeFirst();
    const saved = await setBranding({ db: trx, tenantId, template, input, now });
    const brief = (json: string | undefined) => {
      if (!json) return null;
      const b = JSON.parse(json) as { look?: { logo?: string } };
      return JSON.stringify({ ...b, look: { ...b.look, logo: b.look?.logo ? '(set)' : undefined } });
    };
    await recordAudit(trx, {
      tenantId,
      type: 'template_saved',
      actor,
      data: { template, before: brief(before?.json), after: brief(JSON.stringify(saved)) },
      at: now,
    });
    return saved;
  });
}
