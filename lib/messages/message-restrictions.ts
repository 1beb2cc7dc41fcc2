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
