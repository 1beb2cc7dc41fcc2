import crypto from 'node:crypto';
import { getTenantKey } from '../envelope/tenant-keys';
import { isAppError } from '../errors';
import type { TContext } from '../server/context';
import { checkCertificate } from './check-certificate';
import { decryptCms } from './decrypt-mail';
import { readContentType, splitEntity, splitMessage } from './mime-entity';
import { learnVerifiedSigner } from './remember-signer-certificate';
import { loadTrustAnchors, openSmimeKey } from './smime-store';
import { type TVerifiedSignature, verifyOpaqueSignedEntity, verifySignedEntity } from './verify-signed-mail';

// RFC 7281's results for the `smime` method of Authentication-Results (RFC 8601).
export type TSmimeResult = 'none' | 'pass' | 'fail' | 'policy' | 'neutral' | 'permerror' | 'temperror';

export type TInboundSmime = {
  result: TSmimeResult;
  // Why, in a few words (never any of the message): for the header's comment and the log.
  reason: string;
  // The signer's address and certificate serial, when a signature verified.
  identifier?: string;
  serial?: string;
  learned?: 'remembered' | 'known' | 'refused';
  // The entity the envelope held, when the mail was decrypted for delivery.
  decrypted?: Buffer;
};

export type InspectInboundSmimeOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenantId: string;
  raw: Buffer;
  // The From address: a signer's certificate must name it.
  sender: string | null;
  // Whether an envelope to the tenant's own certificate is opened.
  decrypt: boolean;
  now?: number;
};

const ENVELOPE_TYPES = new Set(['enveloped-data', 'authenveloped-data']);
const PKCS7_MIME = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

// Mail from outside, as S/MIME sees it: opened when it is encrypted to a certificate whose key
// the tenant imported (and the route asks for it), its signature (detached or opaque, outside or
// inside the envelope) verified, the signer's certificate checked for the From address against
// the trust store, and learned. Never throws: a mail Sealpost cannot read is still delivered.
export async function inspectInboundSmime({
  ctx,
  tenantId,
  raw,
  sender,
  decrypt,
  now = Date.now(),
}: InspectInboundSmimeOptions): Promise<TInboundSmime> {
  let entity: Buffer;
  let decrypted: Buffer | undefined;
  try {
    entity = splitMessage({ raw }).entity;
    const type = readContentType(splitEntity({ entity }).fields);
    const smimeType = (type.params['smime-type'] ?? '').toLowerCase();
    if (PKCS7_MIME.has(type.value) && (ENVELOPE_TYPES.has(smimeType) || smimeType === '')) {
      if (!decrypt) return { result: 'neutral', reason: 'encrypted; this route delivers S/MIME as it came' };
      const opened = await openEnvelope({ ctx, tenantId, entity });
      if (!opened) return { result: 'neutral', reason: 'encrypted to a certificate Sealpost does not hold' };
      decrypted = opened;
      entity = opened;
    }
  } catch (error) {
    return { result: isAppError(error) ? 'permerror' : 'temperror', reason: describe(error) };
  }
  let verified: TVerifiedSignature | null;
  try {
    verified = (await verifySignedEntity({ entity })) ?? (await verifyOpaqueSignedEntity({ entity }));
  } catch (error) {
    const result = isAppError(error) ? (error.code === 'UNPROCESSABLE' ? 'fail' : 'permerror') : 'temperror';
    return { result, reason: describe(error), decrypted };
  }
  const opened = decrypted ? 'decrypted; ' : '';
  if (!verified) return { result: 'none', reason: `${opened}not signed`, decrypted };
  const serial = new crypto.X509Certificate(verified.signer).serialNumber.toLowerCase();
  if (!sender) return { result: 'policy', reason: `${opened}no From address to check the signer against`, serial, decrypted };
  try {
    const trustAnchors = await loadTrustAnchors({ db: ctx.db, tenantId });
    await checkCertificate({ der: verified.signer, chain: verified.certificates, address: sender, purpose: 'sign', trustAnchors, now });
  } catch (error) {
    return { result: isAppError(error) ? 'policy' : 'temperror', reason: `${opened}${describe(error)}`, serial, decrypted };
  }
  // A signature that passes is the sender's; its certificate is learned if it may also encrypt.
  let learned: TInboundSmime['learned'];
  let note = '';
  try {
    learned = await learnVerifiedSigner({ db: ctx.db, tenantId, verified, sender, actor: 'relay', now });
  } catch (error) {
    learned = 'refused';
    note = `; certificate not learned: ${describe(error)}`;
  }
  return { result: 'pass', reason: `${opened}signature verified${note}`, identifier: sender, serial, learned, decrypted };
}

type OpenEnvelopeOptions = { ctx: InspectInboundSmimeOptions['ctx']; tenantId: string; entity: Buffer };

// The envelope opened with whichever of the tenant's signing certificates it is addressed to (an
// expired one too: a reply to an old mail is still the tenant's to read). Null when none.
async function openEnvelope({ ctx, tenantId, entity }: OpenEnvelopeOptions): Promise<Buffer | null> {
  const rows = await ctx.db
    .selectFrom('smime_certificates')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('kind', '=', 'signing')
    .orderBy('created_at', 'desc')
    .execute();
  if (!rows.length) return null;
  const der = Buffer.from(
    splitEntity({ entity })
      .body.toString('latin1')
      .replace(/[\r\n\t ]/g, ''),
    'base64',
  );
  for (const row of rows) {
    const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId, version: row.key_version ?? undefined });
    try {
      return await decryptCms({
        der,
        certificate: new Uint8Array(row.certificate),
        pkcs8Pem: openSmimeKey({ tenantKey: tenantKey.key, row }),
      });
    } catch (error) {
      if (isAppError(error) && /not addressed to this certificate/.test(error.message)) continue;
      throw error;
    }
  }
  return null;
}

// One line, bounded, no control characters or parentheses (it goes into a header comment).
const describe = (error: unknown) =>
  (isAppError(error) ? error.message : `internal error (${(error as Error).name})`)
    .replace(/[\x00-\x1f\x7f()\\]+/g, ' ')
    .trim()
    .slice(0, 200);
