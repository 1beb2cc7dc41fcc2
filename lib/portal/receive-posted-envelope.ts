import 'server-only';
import { cancelBody, readBodyRest } from '../http/read-body-rest';
import { readLeadingField } from '../http/read-leading-field';
import { SMALL_FORM_MAX_BYTES } from '../http/read-small-form';
import { tryTakeUploadSlot } from '../http/upload-slots';
import { maxEnvelopeChars } from '../envelope/envelope';
import { readRecipientToken, type TRecipientClaims } from '../envelope/recipient-token';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { acceptPostedEnvelope } from './accept-posted-envelope';

// A recipient token is at most 2,048 characters, none of which urlencoding escapes.
const TOKEN_FIELD_MAX_BYTES = 4096;

export type ReceivePostedEnvelopeOptions = { ctx: TContext; tenant: TTenant; request: Request };

// message.html's form, streamed: `rt` (its first field, as every message.html ever sent has it)
// is read and checked before a byte of the envelope is, so a bad or missing token costs a few KB
// however large the upload (memory exhaustion by anyone, no link needed). Only then is the
// envelope read, up to the envelope limit, and only while an upload slot is free.
export async function receivePostedEnvelope({
  ctx,
  tenant,
  request,
}: ReceivePostedEnvelopeOptions): Promise<{ token: string; claims: TRecipientClaims }> {
  const { value: token, cursor } = await readLeadingField({ request, name: 'rt', maxBytes: TOKEN_FIELD_MAX_BYTES });
  let claims: TRecipientClaims;
  try {
    claims = await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token });
  } catch (error) {
    cancelBody(cursor);
    throw error;
  }
  let release: (() => void) | null = null;
  try {
    const maxChars = maxEnvelopeChars(ctx.config.SEALPOST_MAX_MESSAGE_BYTES);
    const body = await readBodyRest({
      cursor,
      maxBytes: maxChars + 8192,
      largeAfter: SMALL_FORM_MAX_BYTES,
      onLarge: () => {
        release = tryTakeUploadSlot();
        return release !== null;
      },
    });
    const form = new URLSearchParams(body.toString('latin1'));
    await acceptPostedEnvelope({ ctx, tenant, envelope: form.get('envelope') ?? '', claims });
    return { token, claims };
  } finally {
    (release as (() => void) | null)?.();
  }
}
