import { logger } from '../logger';
import type { TContext } from '../server/context';
import type { TRecipientTable } from '../store/schema';
import { buildSmimeMail } from './build-smime-mail';
import { findRecipientCertificate } from './find-recipient-certificate';
import { chooseCipher } from './smime-capabilities';

export type PlanSmimeDeliveryOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenantId: string;
  mime: Buffer;
  from: string;
  recipients: TRecipientTable[];
  now?: number;
};

// For each recipient with a usable certificate, the S/MIME mail to send them (by recipient id).
// A mail that cannot be built (a malformed header, a certificate the library refuses) is logged
// and that recipient gets the wrapper: nobody is left without the message.
export async function planSmimeDelivery({ ctx, tenantId, mime, from, recipients, now = Date.now() }: PlanSmimeDeliveryOptions) {
  const planned = new Map<string, Buffer>();
  for (const recipient of recipients) {
    const found = await findRecipientCertificate({ db: ctx.db, tenantId, address: recipient.address, now });
    if (!found) continue;
    try {
      const cipher = chooseCipher({ capabilities: found.capabilities });
      planned.set(recipient.id, await buildSmimeMail({ ctx, tenantId, mime, from, certificate: found.der, cipher, now }));
    } catch (error) {
      logger.warn(
        { tenantId, code: (error as { code?: string }).code ?? (error as Error).name },
        'S/MIME mail not built; the wrapper goes instead',
      );
    }
  }
  return planned;
}
