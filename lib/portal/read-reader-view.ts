import 'server-only';
import { deriveKey, openBytes, sealBytes } from '../envelope/aead';
import { unwrapContentKey } from '../envelope/content-key';
import { envelopeInvalid } from '../envelope/envelope';
import { getTenantKey } from '../envelope/tenant-keys';
import { logger } from '../logger';
import { SANITISER_VERSION } from '../messages/sanitise-html';
import { type TMessageView, toMessageView } from '../messages/to-message-view';
import { getReaderView, putReaderView } from '../store/reader-views';
import { openTenantEnvelopeStream } from './accept-posted-envelope';
import { authoriseReader, findReaderEnvelope, type OpenForReaderOptions } from './open-for-reader';

// The stored view's own format: bump when TMessageView changes shape.
// 2: inline (cid:) images as data: URLs.
const VIEW_FORMAT = 2;
const VIEW_VERSION = `${VIEW_FORMAT}.${SANITISER_VERSION}`;

export type ReadReaderViewOptions = OpenForReaderOptions & { allowRemoteImages: boolean; now?: number };

// What a signed-in reader sees of a message, rendered (parsed and sanitised) once per message and
// variant rather than on every view. The view is sealed under a key derived from the message's
// own content key, so it is readable exactly as long as the message is: revocation and expiry
// shred that key (and delete the view). A view of a message the server keeps no copy of expires
// with the envelope held for its reader. A view from another sanitiser version is rendered again.
export async function readReaderView({ allowRemoteImages, now = Date.now(), ...options }: ReadReaderViewOptions) {
  const { ctx, tenant, messageId } = options;
  const { session, message, wrapped } = await authoriseReader(options);
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id, version: message.key_version });
  let contentKey: Buffer;
  try {
    contentKey = unwrapContentKey({ tenantKey, tenantId: tenant.id, messageId: message.id, wrapped });
  } catch {
    throw envelopeInvalid();
  }
  const key = deriveKey(contentKey, 'reader-view');
  const variant = allowRemoteImages ? 'images' : 'plain';
  const aad = `sealpost:reader-view:${message.id}:${variant}:${VIEW_VERSION}`;
  const stored = await getReaderView({ db: ctx.db, messageId: message.id, variant });
  if (stored && stored.version === VIEW_VERSION && (stored.expires_at === null || Number(stored.expires_at) > now)) {
    try {
      const view = JSON.parse(openBytes({ key, sealed: stored.sealed, aad }).toString('utf8')) as TMessageView;
      return { session, message, view };
    } catch {
      // Unreadable (it should not be): rendered again below and replaced.
      logger.warn({ messageId: message.id }, 'reader view unreadable; rendering it again');
    }
  }
  const { source, heldUntil } = await findReaderEnvelope({ ctx, message, now });
  // Decrypted as it is read into mailparser's streaming parser, attachments counted and dropped
  // as they pass: the view of a 150 MB message holds its headers and bodies only. The tag is
  // checked at the end of the stream; a view is kept only if it verified.
  const opened = await openTenantEnvelopeStream({ ctx, tenant, source, mode: 'parse', now });
  const view = await toMessageView({ mime: opened.plaintext, allowRemoteImages, attachmentUrl: (i) => `/m/${messageId}/attachments/${i}` });
  const sealed = sealBytes({ key, plaintext: Buffer.from(JSON.stringify(view), 'utf8'), aad });
  await putReaderView({
    db: ctx.db,
    row: { message_id: message.id, variant, version: VIEW_VERSION, sealed, expires_at: heldUntil, created_at: now },
  });
  return { session, message, view };
}
