import 'server-only';
import { readRecipientSession } from '../auth/recipient-session';
import { joinVerified } from '../envelope/envelope-stream';
import { assertOpenable } from '../envelope/open-message';
import { AppError } from '../errors';
import { mayReadInSession } from '../messages/conversation';
import type { TContext } from '../server/context';
import { getMessage } from '../store/messages';
import { findEnvelope, openTenantEnvelopeStream } from './accept-posted-envelope';
import type { TTenant } from '../tenants/tenants';

export type OpenForReaderOptions = { ctx: TContext; tenant: TTenant; messageId: string; sessionValue: string | undefined };

// Who may read what: a session of this tenant for this very message (or for the conversation of
// a reply the reader sent), and a message that can still be opened (its wrapped content key).
export async function authoriseReader({ ctx, tenant, messageId, sessionValue }: OpenForReaderOptions) {
  const session = await readRecipientSession({ ctx, tenant, value: sessionValue });
  if (!session) throw new AppError('UNAUTHORIZED', 'Sign in to read this message.');
  const message = await getMessage(ctx.db, messageId);
  if (!message || message.tenant_id !== tenant.id || !(await mayReadInSession(ctx, session, message))) {
    throw new AppError('FORBIDDEN', 'This message was not sent to you.');
  }
  // Revocation and expiry erase the stored envelope too: say which, not that it is missing.
  const wrapped = await assertOpenable({ db: ctx.db, message });
  return { session, message, wrapped };
}

// The envelope a reader's message is opened from: stored, or held from their message.html.
export async function findReaderEnvelope({ ctx, message, now }: Parameters<typeof findEnvelope>[0]) {
  const found = await findEnvelope({ ctx, message, now });
  if (!found)
    throw new AppError('ENVELOPE_INVALID', 'Open the message.html attachment of the email to read this message.', { notHeld: true });
  return found;
}

// Every decryption of a whole message for a reader goes through here (the rendered view of it,
// lib/portal/read-reader-view.ts, and attachment downloads stream it, through authoriseReader).
// Nothing else decrypts for a reader. The message is joined once its tag verified.
export async function openForReader(options: OpenForReaderOptions) {
  const { session, message } = await authoriseReader(options);
  const { source } = await findReaderEnvelope({ ctx: options.ctx, message });
  const opened = await openTenantEnvelopeStream({ ctx: options.ctx, tenant: options.tenant, source, mode: 'parse' });
  return { session, message, mime: await joinVerified(opened.plaintext) };
}
