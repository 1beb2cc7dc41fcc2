import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import type { TRestrictions } from '../templates/schema';

export type TRestrictedAction = 'forward' | 'reply_recipients';

export type RefuseRestrictedActionOptions = {
  db: TDb;
  tenantId: string;
  messageId: string;
  actor: string;
  action: TRestrictedAction;
  restrictions: TRestrictions;
  message: string;
};

// A reader asked for what the message's policy refuses: the refusal is recorded (who, which
// message, what they tried; never what they wrote) and answered 403.
export async function refuseRestrictedAction({
  db,
  tenantId,
  messageId,
  actor,
  action,
  restrictions,
  message,
}: RefuseRestrictedActionOptions): Promise<never> {
  await recordAudit(db, { tenantId, messageId, type: 'restricted_action_refused', actor, data: { action, restrictions } });
  throw new AppError('FORBIDDEN', message);
}
