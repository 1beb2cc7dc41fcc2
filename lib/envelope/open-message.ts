import { AppError } from '../errors';
import { getMessageHead, shredMessage, type TMessageHead } from '../store/messages';
import type { TMessageTable } from '../store/schema';
import { unwrapContentKey } from './content-key';
import { envelopeInvalid, openEnvelopeWithKey, readEnvelopeHeader, type TEnvelopeHeader } from './envelope';
import { decryptEnvelopeStream, releaseEnvelopeStream, type TEnvelopeSource } from './envelope-stream';
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

type TUnlocked = { message: TMessageHead; contentKey: Buffer };

// The message an envelope's header names, if it is this tenant's and may still be opened, and
// its content key. The header is not authenticated yet: the decryption checks it (the AAD).
async function unlockEnvelope({
  db,
  master,
  header,
  tenantId,
  now,
}: TKeyContext & { header: TEnvelopeHeader; tenantId: string; now: number }): Promise<TUnlocked> {
  // `kid` is a bound parameter in a lookup, never part of a path or a query string. Without its
  // stored envelope: the caller holds the one being opened.
  const message = await getMessageHead(db, header.kid);
  if (!message || message.tenant_id !== tenantId) throw envelopeInvalid();
  const wrapped = await assertOpenable({ db, message, now });
  const tenantKey = await getTenantKey({ db, master, tenantId, version: message.key_version });
  try {
    return { message, contentKey: unwrapContentKey({ tenantKey, tenantId, messageId: message.id, wrapped }) };
  } catch {
    throw envelopeInvalid();
  }
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
  const { message, contentKey } = await unlockEnvelope({ db, master, header, tenantId, now });
  try {
    return { message, mime: await openEnvelopeWithKey({ token: token as string, header, contentKey }) };
  } finally {
    contentKey.fill(0);
  }
}

// How a streamed envelope's plaintext is handed out (lib/envelope/envelope-stream.ts): as it is
// decrypted, its tag checked at the end ('parse': for a reader that keeps nothing unless the
// stream ends well), or each piece authentic when handed out ('release': two passes).
export type TStreamMode = 'parse' | 'release';

export type OpenMessageStreamOptions = TKeyContext & { tenantId: string; source: TEnvelopeSource; mode: TStreamMode; now?: number };

export type TOpenedMessageStream = { message: TMessageHead; plaintext: AsyncIterable<Buffer> };

// Opens an envelope as a stream: the same checks as openMessage, the ciphertext never held whole.
export async function openMessageStream({
  db,
  master,
  tenantId,
  source,
  mode,
  now = Date.now(),
}: OpenMessageStreamOptions): Promise<TOpenedMessageStream> {
  const header = readEnvelopeHeader({ token: source.frame.text, tenantId, maxChars: source.frame.text.length });
  const { message, contentKey } = await unlockEnvelope({ db, master, header, tenantId, now });
  const open = mode === 'parse' ? decryptEnvelopeStream : releaseEnvelopeStream;
  return {
    message,
    plaintext: (async function* () {
      try {
        yield* open({ source, header, contentKey });
      } finally {
        contentKey.fill(0);
      }
    })(),
  };
}
