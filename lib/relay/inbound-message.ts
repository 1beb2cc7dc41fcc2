import crypto from 'node:crypto';
import { getTenantKey } from '../envelope/tenant-keys';
import { isAppError } from '../errors';
import { parseAddressList } from '../mail/address-list';
import { splitHeaderFields, stripHeaderFields, type THeaderField } from '../mail/header-fields';
import { enqueueMail, newOutboxId, notifyOutbox } from '../mail/outbox';
import { findHeaderEnd, readFirstHeader } from '../mail/parse-message';
import { withRateLimits } from '../rate-limit/rate-limits';
import type { TContext } from '../server/context';
import type { TInboundSmime } from '../smime/inspect-inbound-smime';
import type { TInboundRouteTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';
import { smtpText } from './relay-message';

// How long the S/MIME look at one inbound mail may take (a CRL fetch is the slow part) before the
// mail goes on with smime=temperror: the sending server waits for our answer meanwhile.
export const INBOUND_SMIME_TIMEOUT_MS = 30_000;

const INBOUND_ID_DOMAIN = 'inbound.sealpost';
const DECRYPTED_ID_DOMAIN = 'inbound-decrypted.sealpost';
export const isDecryptedInbound = (smtpMessageId: string) => smtpMessageId.endsWith(`@${DECRYPTED_ID_DOMAIN}>`);

export type TInboundOutcome = { kind: 'accepted'; smime: TInboundSmime } | { kind: 'refused'; code: number; text: string };

export type AcceptInboundMessageOptions = {
  ctx: TContext;
  tenant: TTenant;
  route: TInboundRouteTable;
  // The SMTP envelope: MAIL FROM ('' for the null sender of a bounce) and every RCPT TO, checked.
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
  received: string;
  // The sending server's address, for the per-address limit.
  ip: string;
  now?: number;
  smimeTimeoutMs?: number;
};

// Mail from outside for the tenant's own domain: S/MIME looked at (verified, learned, opened when
// the route says so), the verdict written into an Authentication-Results field, and one outbox row
// per recipient committed before the sender hears 250. Never re-signed, never encrypted.
export async function acceptInboundMessage({
  ctx,
  tenant,
  route,
  mailFrom,
  rcptTo,
  raw,
  received,
  ip,
  now = Date.now(),
  smimeTimeoutMs = INBOUND_SMIME_TIMEOUT_MS,
}: AcceptInboundMessageOptions): Promise<TInboundOutcome> {
  const headerEnd = findHeaderEnd(raw);
  let fields: THeaderField[];
  try {
    fields = splitHeaderFields({ headerBlock: raw.subarray(0, Math.min(headerEnd + 2, raw.length)) });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { kind: 'refused', code: 550, text: `5.6.0 ${smtpText(error.message)}` };
  }
  const authservId = ctx.config.SEALPOST_BASE_DOMAIN.toLowerCase();
  // RFC 8601 §5: a field that claims to be ours and came from outside is removed before ours is added.
  const forged = fields.filter((f) => f.key === 'authentication-results' && readAuthservId(f.value) === authservId);
  const cleaned = stripHeaderFields({ raw, fields: forged, key: 'authentication-results' });
  const sender = readFromAddress(fields);

  const { inspectInboundSmime } = await import('../smime/inspect-inbound-smime');
  let timer: NodeJS.Timeout | undefined;
  const smime = await Promise.race([
    inspectInboundSmime({ ctx, tenantId: tenant.id, raw: cleaned, sender, decrypt: route.decrypt === 1, now }),
    new Promise<TInboundSmime>((resolve) => {
      timer = setTimeout(() => resolve({ result: 'temperror', reason: 'the S/MIME check took too long' }), smimeTimeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));

  let body = cleaned;
  if (smime.decrypted) {
    // joinMessage writes the one MIME-Version; an entity that brought its own (OpenSSL's does) loses it.
    const { joinMessage, splitEntity, splitMessage } = await import('../smime/mime-entity');
    try {
      const inner = splitEntity({ entity: smime.decrypted });
      const entity = stripHeaderFields({ raw: smime.decrypted, fields: inner.fields, key: 'mime-version' });
      body = joinMessage({ outer: splitMessage({ raw: cleaned }).outer, entity });
    } catch (error) {
      if (!isAppError(error)) throw error;
      // What the envelope held is no MIME entity: the mail goes on as it came.
      smime.reason = `${smime.reason}; the decrypted content is not a MIME entity, delivered encrypted`;
    }
  }
  const parts = [Buffer.from(received), Buffer.from(authenticationResults(authservId, smime)), body];
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  try {
    await withRateLimits(ctx.db, { consume: [{ name: 'relayInboundPerIp', key: ip }], now }, async (trx) => {
      for (const rcpt of rcptTo) {
        await enqueueMail(trx, {
          tenantKey,
          now,
          mail: {
            id: newOutboxId(),
            tenantId: tenant.id,
            messageId: null,
            kind: 'inbound',
            mailFrom,
            rcptTo: rcpt,
            // Our tracking id; it also tells the worker that this mail was decrypted here.
            smtpMessageId: `<${crypto.randomUUID()}@${body === cleaned ? INBOUND_ID_DOMAIN : DECRYPTED_ID_DOMAIN}>`,
            raw: parts,
          },
        });
      }
    });
  } catch (error) {
    if (isAppError(error) && error.code === 'RATE_LIMITED') return { kind: 'refused', code: 450, text: `4.7.1 ${smtpText(error.message)}` };
    throw error;
  }
  notifyOutbox();
  return { kind: 'accepted', smime: { ...smime, decrypted: undefined } };
}

// The authserv-id of an Authentication-Results field: its first token, comments left out.
function readAuthservId(value: Buffer): string {
  return value
    .toString('latin1')
    .replace(/\r?\n/g, '')
    .replace(/\([^()]*\)/g, ' ')
    .trim()
    .split(/[\s;]/)[0]!
    .toLowerCase();
}

// The one From address, when there is exactly one From field naming exactly one mailbox.
function readFromAddress(fields: THeaderField[]): string | null {
  if (fields.filter((f) => f.key === 'from').length !== 1) return null;
  try {
    const list = parseAddressList({ field: 'From', value: readFirstHeader({ fields, key: 'from' }) ?? '' });
    return list.length === 1 ? list[0]!.address : null;
  } catch {
    return null;
  }
}

// RFC 8601 with RFC 7281's smime method: the verdict, why (a comment), and the signer.
export function authenticationResults(authservId: string, smime: TInboundSmime): string {
  const props = [
    ...(smime.identifier ? [`body.smime-identifier=${smime.identifier}`] : []),
    ...(smime.serial ? [`body.smime-serial=${smime.serial}`] : []),
  ];
  return `Authentication-Results: ${authservId};\r\n\tsmime=${smime.result} (${smime.reason})${props.map((p) => `\r\n\t${p}`).join('')}\r\n`;
}
