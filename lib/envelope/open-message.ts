import { AppError } from '../errors';
import { getMessageHead, shredMessage, type TMessageHead } from '../store/messages';
import type { TMessageTable } from '../store/schema';
import { unwrapContentKey } from './content-key';
import { readEnvelopeRecords } from '../store/envelope-records';
import {
  envelopeInvalid,
  isRecordsEnvelope,
  openEnvelopeRecords,
  openEnvelopeWithKey,
  readEnvelopeHeader,
  type TEnvelopeHeader,
} from './envelope';
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
export type TOpenedMessageStream = { message: TMessageHead; plaintext: AsyncIterable<Buffer> };

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
// The plaintext comes as a stream of verified pieces (a version 2 envelope a record at a time,
// read from envelope_records when the token is the stored header alone); it throws the one
// generic error at the first record that fails, having released nothing of that record.
export async function openMessageStream({
  db,
  master,
  tenantId,
  token,
  maxChars,
  now = Date.now(),
}: OpenMessageOptions): Promise<TOpenedMessageStream> {
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
  return { message, plaintext: openEnvelopeStream({ db, token: token as string, header, contentKey }) };
}

export type OpenEnvelopeStreamOptions = { db: OpenMessageOptions['db']; token: string; header: TEnvelopeHeader; contentKey: Uint8Array };

// Either version's plaintext as a stream: version 2 record by record (from the token, or from
// the store for a stored header), version 1 whole once its one tag verifies, in views of 64 KiB.
export async function* openEnvelopeStream({ db, token, header, contentKey }: OpenEnvelopeStreamOptions): AsyncGenerator<Buffer> {
  if (isRecordsEnvelope(header)) {
    yield* openEnvelopeRecords({ token, header, contentKey, stored: () => readEnvelopeRecords(db, header.kid) });
    return;
  }
  const mime = await openEnvelopeWithKey({ token, header, contentKey });
  for (let at = 0; at < mime.length; at += SLICE_BYTES)
    yield Buffer.from(mime.buffer, mime.byteOffset + at, Math.min(SLICE_BYTES, mime.length - at));
}

const SLICE_BYTES = 64 * 1024;

// The whole message in memory, for those that need it whole (replies, forwards).
export async function openMessage(options: OpenMessageOptions): Promise<TOpenedMessage> {
  const { message, plaintext } = await openMessageStream(options);
  const parts: Buffer[] = [];
  for await (const part of plaintext) parts.push(part);
  return { message, mime: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
}
