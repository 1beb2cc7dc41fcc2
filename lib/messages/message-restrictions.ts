import type { TDb } from '../store/db';
import type { TMessageTable } from '../store/schema';
import { getBranding } from '../templates/get-branding';
import type { TBranding, TRestrictions } from '../templates/schema';

const STRICTNESS: Record<TRestrictions, number> = { none: 0, 'do-not-forward': 1 };

// The stricter of two restrictions.
export const stricterRestrictions = (a: TRestrictions, b: TRestrictions): TRestrictions => (STRICTNESS[a] >= STRICTNESS[b] ? a : b);

export type BrandingForMessageOptions = {
  db: TDb;
  tenantId: string;
  message: Pick<TMessageTable, 'template' | 'restrictions'>;
};

// The branding a message is read, answered and delivered under: its template's as it is now, with
// the restrictions recorded when it was sent kept (a template loosened, renamed or deleted since
// does not loosen the message; one tightened since tightens it). Do Not Forward turns forwarding
// off whatever the template's allowForward says.
export async function brandingForMessage({ db, tenantId, message }: BrandingForMessageOptions): Promise<TBranding> {
  const branding = await getBranding(db, tenantId, message.template);
  const restrictions = stricterRestrictions(branding.policy.restrictions, message.restrictions);
  const allowForward = branding.policy.allowForward && restrictions === 'none';
  return { ...branding, policy: { ...branding.policy, restrictions, allowForward } };
}

// A reader's reply or forward is written with the tenant's default template; whether it names the
// reader in Reply-To is also the choice of the template the message it answers was sent with (off
// wins), so "answers through the portal only" can be set where the conversation starts. Asked
// only where a wrapper is built, not on every page that reads a message's branding.
export async function parentAllowsReplyToReader({
  db,
  tenantId,
  parentId,
}: {
  db: TDb;
  tenantId: string;
  parentId: string | null | undefined;
}): Promise<boolean> {
  if (!parentId) return true;
  const parent = await db
    .selectFrom('messages')
    .select('template')
    .where('id', '=', parentId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return parent ? (await getBranding(db, tenantId, parent.template)).policy.replyToReader : true;
}
