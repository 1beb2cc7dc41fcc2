import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { DEFAULT_TEMPLATE } from './schema';

export type DeleteTemplateOptions = { db: TDb; tenantId: string; template: string; now?: number };

// Removes a template that no message can still be opened under. A message whose template is gone
// falls back to the default one, whose policy may be looser (passcodes on where they were off,
// forwarding allowed, no expiry): deleting it under live messages would weaken them.
export async function deleteTemplate({ db, tenantId, template, now = Date.now() }: DeleteTemplateOptions): Promise<void> {
  if (template === DEFAULT_TEMPLATE) throw new AppError('BAD_REQUEST', 'The default template cannot be deleted');
  const live = await db
    .selectFrom('messages')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('template', '=', template)
    .where('revoked_at', 'is', null)
    .where('wrapped_cek', 'is not', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  if (live) throw new AppError('CONFLICT', `Template "${template}" is still used by messages that can be opened`);
  const result = await db.deleteFrom('branding').where('tenant_id', '=', tenantId).where('name', '=', template).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new AppError('NOT_FOUND', `No template "${template}"`);
}
