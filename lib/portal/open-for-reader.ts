import 'server-only';
import { readRecipientSession } from '../auth/recipient-session';
import { assertOpenable } from '../envelope/open-message';
import { AppError } from '../errors';
import { mayReadInSession } from '../messages/conversation';
import type { TContext } from '../server/context';
import { getMessage } from '../store/messages';
import { findEnvelope, openTenantEnvelope } from './accept-posted-envelope';
import type { TTenant } from '../tenants/tenants';

export type OpenForReaderOptions = { ctx: TContext; tenant: TTenant; messageId: string; sessionValue: string | undefined };

// Every read of a message goes through here: a session of this tenant for this very message (or
// for the conversation of a reply the reader sent), then the envelope opened with the tenant's keys. Nothing else decrypts for a reader.
export async function openForReader({ ctx, tenant, messageId, sessionValue }: OpenForReaderOptions) {
  const session = await readRecipientSession({ ctx, tenant, value: sessionValue });
  if (!session) throw new AppError('UNAUTHORIZED', 'Sign in to read this message.');
  const message = await getMessage(ctx.db, messageId);
  if (!message || message.tenant_id !== tenant.id || !(await mayReadInSession(ctx, session, message))) {
    throw new AppError('FORBIDDEN', 'This message was not sent to you.');
  }
  // Revocation and expiry erase the stored envelope too: say which, not that it is missing.
  await assertOpenable({ db: ctx.db, message });
  const envelope = await findEnvelope({ ctx, message });
  if (!envelope)
    throw new AppError('ENVELOPE_INVALID', 'Open the message.html attachment of the email to read this message.', { notHeld: true });
  const opened = await openTenantEnvelope({ ctx, tenant, envelope });
  return { session, message, mime: opened.mime };
}
