import 'server-only';
import type { TRestrictionOverlay } from '../http/restriction-overlay';
import { getPortalText } from '../i18n/portal-i18n';
import { brandingForMessage } from '../messages/message-restrictions';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { readReaderView } from './read-reader-view';
import { sessionCookieValue } from './request-session';

// "2026-12-03 14:30 UTC": the watermark's time, to the minute, the same for every reader's clock.
export const watermarkTime = (now: number) => `${new Date(now).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

// Who reads, and when: the watermark of a Do Not Forward message (made per request, per reader).
export const watermarkText = ({ address, now }: { address: string; now: number }) => `${address} · ${watermarkTime(now)}`;

export type ReadMessageBodyOptions = { ctx: TContext; tenant: TTenant; messageId: string; allowRemoteImages: boolean; now?: number };

// The body of a message for its sandboxed frame: the shared (cached) reader view's HTML, and for
// a Do Not Forward message this reader's watermark and the print notice, added here, per request.
export async function readMessageBody({ ctx, tenant, messageId, allowRemoteImages, now = Date.now() }: ReadMessageBodyOptions) {
  const { session, message, view } = await readReaderView({
    ctx,
    tenant,
    messageId,
    sessionValue: await sessionCookieValue(ctx),
    allowRemoteImages,
  });
  const { policy } = await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message });
  let restriction: TRestrictionOverlay | undefined;
  if (policy.restrictions === 'do-not-forward') {
    const { t } = await getPortalText();
    restriction = { watermark: watermarkText({ address: session.address, now }), printNotice: t('printNotice') };
  }
  return { html: view.html ?? '', restriction };
}
