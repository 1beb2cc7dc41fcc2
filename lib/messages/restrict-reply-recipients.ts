import { AppError } from '../errors';
import { normaliseAddress } from '../mail/address';
import type { TContext } from '../server/context';
import { getMessage, listRecipients } from '../store/messages';
import { brandingForMessage } from './message-restrictions';
import { refuseRestrictedAction } from './refuse-restricted-action';

export type RestrictReplyRecipientsOptions = {
  ctx: TContext;
  tenantId: string;
  messageId: string;
  // The reader replying, the original's sender, and Reply all's others as its headers name them.
  from: string;
  sender: string;
  others: string[];
  // Addresses a client asked to add (the portal's form offers none; a hand-made post may).
  added: string[];
};

// Who a reply may go to. Encrypt-Only: the sender and (Reply all) the others, as always; added
// addresses are not a thing the form has, and are ignored. Do Not Forward: only the original
// sender and the original recipients: an added address anyone else is refused (403, recorded),
// and Reply all keeps only the header addresses the message was really sent to (a sender's
// hand-written To: naming an outsider does not let the reply reach them).
export async function restrictReplyRecipients({
  ctx,
  tenantId,
  messageId,
  from,
  sender,
  others,
  added,
}: RestrictReplyRecipientsOptions): Promise<string[]> {
  const message = await getMessage(ctx.db, messageId);
  if (!message || message.tenant_id !== tenantId) throw new AppError('NOT_FOUND', 'No such message');
  const { policy } = await brandingForMessage({ db: ctx.db, tenantId, message });
  if (policy.restrictions === 'none') return others;
  const recipients = new Set((await listRecipients(ctx.db, messageId)).filter((r) => r.kind !== 'copy').map((r) => r.address));
  const allowed = new Set([...recipients, sender.toLowerCase(), message.sender]);
  const isOutsider = (a: string) => {
    const address = normaliseAddress(a.trim());
    return address === null || !allowed.has(address);
  };
  if (added.some(isOutsider))
    await refuseRestrictedAction({
      db: ctx.db,
      tenantId,
      messageId,
      actor: from,
      action: 'reply_recipients',
      restrictions: policy.restrictions,
      message: 'This message is Do Not Forward: a reply goes only to its sender and its recipients.',
    });
  return others.filter((a) => recipients.has(normaliseAddress(a) ?? ''));
}
