import 'server-only';
import { recordAudit } from '../audit/record-audit';
import { listOwnReplies } from '../messages/conversation';
import { brandingForMessage } from '../messages/message-restrictions';
import { watermarkText } from '../portal/read-message-body';
import { readReaderView } from '../portal/read-reader-view';
import { sessionCookieValue } from '../portal/request-session';
import { MessagePage } from '../portal/ui/message-page';
import { isGoneError } from './load-for-page';
import type { TPortalPageContext } from './portal-page';

export type MessagePageResponseOptions = TPortalPageContext<{ host: string; id: string }>;

// GET /m/<id>, the page every reader opens, and the one the morning's peak asks for most: rendered
// here from the reader's kept view in one synchronous pass of react-dom/server (portalPage),
// rather than by the App Router, whose server-components render and its second pass to HTML cost
// each view more than the rest of its work together (bench/portal). Like the App Router's pages
// it is the whole document, without a script, and its refusals are whole pages too (404, 401,
// 403: portalPage), and a message no longer readable is sent on to its gone page (/m/<id>/gone),
// which says why with its own status.
export async function messagePageResponse({
  request,
  params: { id },
  ctx,
  tenant,
  text: { t },
  page,
}: MessagePageResponseOptions): Promise<Response> {
  const query = request.nextUrl.searchParams;
  const allowImages = query.get('images') === '1';
  const opened = await readReaderView({
    ctx,
    tenant,
    messageId: id,
    sessionValue: await sessionCookieValue(ctx),
    allowRemoteImages: allowImages,
  }).catch((error: unknown) => {
    if (isGoneError(error)) return null;
    throw error;
  });
  if (!opened) return new Response(null, { status: 307, headers: { location: `/m/${id}/gone` } });
  const { session, message, view } = opened;
  const branding = await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message });
  await recordAudit(ctx.db, { tenantId: tenant.id, messageId: id, type: 'viewed', actor: session.address });
  const isOwnReply = message.sender === session.address;
  const replies = isOwnReply ? [] : await listOwnReplies({ ctx, message, address: session.address });
  const isRestricted = branding.policy.restrictions === 'do-not-forward';
  return page(
    200,
    <MessagePage
      t={t}
      id={id}
      tenantName={tenant.name}
      branding={branding}
      view={view}
      reader={{ address: session.address, messageId: session.messageId }}
      isOwnReply={isOwnReply}
      replies={replies}
      allowImages={allowImages}
      notices={{ replied: query.get('replied') === '1', forwarded: query.get('forwarded') === '1', copied: query.get('copied') === '1' }}
      watermark={isRestricted ? watermarkText({ address: session.address, now: Date.now() }) : null}
    />,
  );
}
