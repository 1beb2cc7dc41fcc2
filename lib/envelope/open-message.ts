import { AppError } from '../errors';
import { getMessageHead, shredMessage, type TMessageHead } from '../store/messages';
import type { TMessageTable } from '../store/schema';
import { unwrapContentKey } from './content-key';
import { envelopeInvalid, openEnvelopeWithKey, readEnvelopeHeader } from './envelope';
import { isMessageOpenable } from './is-message-openable';
import { getTenantKey, type TKeyContext } from './tenant-keys';

export type OpenMessageOptions = TKeyContext & {
  // The tenant of the host the envelope arrived on: an envelope of another tenant never opens here.
  tenantId: string;
  token: unknown;
  maxChars: number;
  now?: number;
};

export type TOpenedMessage = { message: TMessageHead; mime: Uint8Array };

export type AssertOpenableOptions = { db: OpenMessageOptions['db']; message: Omit<TMessageTable, 'envelope'>; now?: number };

// A revoked or expired message never opens (an expired one found still keyed is shredded now);
// one that may gives its wrapped content key.
export async function assertOpenable({ db, message, now = Date.now() }: AssertOpenableOptions): Promise<Buffer> {
  const state = isMessageOpenable({ message, now });
  if (state === 'revoked') {
    throw new AppError('ENVELOPE_REVOKED', 'The sender revoked this message.', { revokedAt: message.revoked_at });
  }
  if (state === 'expired' || !message.wrapped_cek) {
    if (message.wrapped_cek) await shredMessage(db, message.id, { now });
    throw new AppError('ENVELOPE_EXPIRED', 'This message has expired.', { expiredAt: message.expires_at });
  }
  return message.wrapped_cek;
}

// Opens an envelope from anywhere (message.html, the store): hostile until proven otherwise.
export async function openMessage({
  db,
  master,
  tenantId,
  token,
  maxChars,
  now = Date.now(),
}: OpenMessageOptions): Promise<TOpenedMessage> {
  const header = readEnvelopeHeader({ token, tenantId, maxChars });
  // `kid` is a bound parameter in a lookup, never part of a path or a query string. Without its
  // stored envelope: the caller holds the one being opened.
  const message = await getMessageHead(db, header.kid);
  if (!message || message.tenant_id !== tenantId) throw envelopeInvalid();
  const wrapped = await assertOpenable({ db, message, now });
  const tenantKey = await getTenantKey({ db, master, tenantId, version: message.key_version });
  let contentKey: Buffer;
  try {
    contentKey = unwrapContentKey({ tenantKey, tenantId, messageId: message.id, wrapped });
  } catch {
    throw envelopeInvalid();
  }
  const mime = await openEnvelopeWithKey({ token: token as string, header, contentKey });
  return { message, mime };
}
