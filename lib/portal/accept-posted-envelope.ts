import 'server-only';
import type { TMessageTable } from '../store/schema';
import { maxEnvelopeChars } from '../envelope/envelope';
import { compactSource, type TEnvelopeSource } from '../envelope/envelope-stream';
import { openMessage, openMessageStream, type TStreamMode } from '../envelope/open-message';
import type { TRecipientClaims } from '../envelope/recipient-token';
import { AppError } from '../errors';
import { getMetrics } from '../metrics/metrics';
import type { TContext } from '../server/context';
import { getHeldEnvelope, holdEnvelope } from '../store/held-envelopes';
import { storedEnvelopeSource } from '../store/envelope-parts';
import { getMessage } from '../store/messages';
import type { TTenant } from '../tenants/tenants';

export type AcceptPostedEnvelopeOptions = { ctx: TContext; tenant: TTenant; envelope: string; claims: TRecipientClaims; now?: number };

// POST /open from message.html, once its token has been read as this tenant's (claims): the
// envelope must be the very message the token names and open with this tenant's keys. Where the server keeps no copy (the
// tenant delivers by attachment only), the ciphertext is held just for the sign-in and reading.
export type OpenTenantEnvelopeOptions = { ctx: TContext; tenant: TTenant; envelope: string; now?: number };

// An envelope opened with this tenant's keys, within the size the configured message limit allows.
export async function openTenantEnvelope({ ctx, tenant, envelope, now }: OpenTenantEnvelopeOptions) {
  try {
    const opened = await openMessage({
      db: ctx.db,
      master: ctx.master,
      tenantId: tenant.id,
      token: envelope,
      maxChars: maxEnvelopeChars(ctx.config.SEALPOST_MAX_MESSAGE_BYTES),
      now,
    });
    countOpen();
    return opened;
  } catch (error) {
    countOpen(error);
    throw error;
  }
}

// The envelope-opens counter: ok, or the error's code.
const countOpen = (error?: unknown) =>
  getMetrics().envelopeOpens.inc({ result: error === undefined ? 'ok' : error instanceof AppError ? error.code : 'error' });

export async function acceptPostedEnvelope({ ctx, tenant, envelope, claims, now = Date.now() }: AcceptPostedEnvelopeOptions) {
  const opened = await openTenantEnvelope({ ctx, tenant, envelope, now });
  if (opened.message.id !== claims.messageId) throw new AppError('ENVELOPE_INVALID', 'This message cannot be opened.');
  const message = await getMessage(ctx.db, claims.messageId);
  if (message && !message.envelope) {
    await holdEnvelope({ db: ctx.db, messageId: message.id, envelope, now });
  }
  return claims;
}

export type OpenTenantEnvelopeStreamOptions = { ctx: TContext; tenant: TTenant; source: TEnvelopeSource; mode: TStreamMode; now?: number };

// The same as a stream (lib/envelope/envelope-stream.ts), counted once it ends, well or not.
export async function openTenantEnvelopeStream({ ctx, tenant, source, mode, now }: OpenTenantEnvelopeStreamOptions) {
  let opened: Awaited<ReturnType<typeof openMessageStream>>;
  try {
    opened = await openMessageStream({ db: ctx.db, master: ctx.master, tenantId: tenant.id, source, mode, now });
  } catch (error) {
    countOpen(error);
    throw error;
  }
  return {
    message: opened.message,
    plaintext: (async function* () {
      try {
        yield* opened.plaintext;
      } catch (error) {
        countOpen(error);
        throw error;
      }
      countOpen();
    })(),
  };
}

// The envelope a reader may open: the stored one (heldUntil null), or one held for them from
// message.html (until heldUntil). A source: a stored one is read a row at a time as it opens.
export async function findEnvelope({
  ctx,
  message,
  now = Date.now(),
}: {
  ctx: TContext;
  message: Pick<TMessageTable, 'id' | 'envelope'>;
  now?: number;
}): Promise<{ source: TEnvelopeSource; heldUntil: number | null } | null> {
  if (message.envelope) return { source: storedEnvelopeSource(ctx.db, message.id, message.envelope), heldUntil: null };
  const held = await getHeldEnvelope({ db: ctx.db, messageId: message.id, now });
  return held ? { source: compactSource(held.envelope), heldUntil: held.expiresAt } : null;
}
