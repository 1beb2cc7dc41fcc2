import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { AppError } from '../errors';
import { deriveKey } from './aead';
import { getTenantKey, type TKeyContext } from './tenant-keys';

export const RECIPIENT_TOKEN_TYP = 'sealpost-recipient+jwe';
const MAX_TOKEN_CHARS = 2048;

export type TRecipientClaims = { messageId: string; recipientId: string; address: string };

const tokenInvalid = () => new AppError('ENVELOPE_INVALID', 'This link cannot be used.');

// The token travels in a link as one word: the compact JWE's '.' and base64url's '-' and '_'
// escaped into word characters ('_p', '_d', '_u'). A spam filter reads a link's text in pieces
// split at word boundaries, and a random 30-odd-character piece of base64url looks like a Bitcoin
// address about once in 1,700 links (SpamAssassin's __BITCOIN_ID: PDS_BTC_ID, BITCOIN_SPAM_04);
// one unbroken word of ~250 characters never does. Links written before carry the plain compact
// form (it always has four dots, the link form none) and are still read.
const LINK_ESCAPES: Record<string, string> = { '.': '_p', '-': '_d', _: '_u' };
const LINK_UNESCAPES: Record<string, string> = { p: '.', d: '-', u: '_' };

export const toLinkForm = (jwe: string) => jwe.replace(/[.\-_]/g, (c) => LINK_ESCAPES[c]!);

function fromLinkForm(token: string): string {
  if (token.includes('.')) return token;
  if (!/^(?:[A-Za-z0-9]|_[pdu])*$/.test(token)) throw tokenInvalid();
  return token.replace(/_([pdu])/g, (_, c: string) => LINK_UNESCAPES[c]!);
}

export type CreateRecipientTokenOptions = TKeyContext & { tenantId: string; claims: TRecipientClaims };

// The link's per-recipient token: encrypted (not only signed) under a subkey of the tenant key,
// so a link in a proxy log names neither the message's recipient nor anything else.
export async function createRecipientToken({ db, master, tenantId, claims }: CreateRecipientTokenOptions): Promise<string> {
  const tenantKey = await getTenantKey({ db, master, tenantId });
  const payload = new TextEncoder().encode(JSON.stringify({ mid: claims.messageId, rid: claims.recipientId, adr: claims.address }));
  const jwe = await new CompactEncrypt(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: RECIPIENT_TOKEN_TYP, kid: String(tenantKey.version), tnt: tenantId })
    .encrypt(deriveKey(tenantKey.key, 'recipient-token'));
  return toLinkForm(jwe);
}

export type ReadRecipientTokenOptions = TKeyContext & { tenantId: string; token: unknown };

export async function readRecipientToken({ db, master, tenantId, token }: ReadRecipientTokenOptions): Promise<TRecipientClaims> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw tokenInvalid();
  try {
    const jwe = fromLinkForm(token);
    const header = decodeProtectedHeader(jwe);
    const keys = Object.keys(header).sort().join(',');
    if (keys !== 'alg,enc,kid,tnt,typ' || header.typ !== RECIPIENT_TOKEN_TYP || header.tnt !== tenantId) throw tokenInvalid();
    if (typeof header.kid !== 'string' || !/^[1-9][0-9]{0,5}$/.test(header.kid)) throw tokenInvalid();
    const tenantKey = await getTenantKey({ db, master, tenantId, version: Number(header.kid) });
    const { plaintext } = await compactDecrypt(jwe, deriveKey(tenantKey.key, 'recipient-token'), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    const body = JSON.parse(new TextDecoder().decode(plaintext)) as Record<string, unknown>;
    if (typeof body.mid !== 'string' || typeof body.rid !== 'string' || typeof body.adr !== 'string') throw tokenInvalid();
    return { messageId: body.mid, recipientId: body.rid, address: body.adr };
  } catch {
    throw tokenInvalid();
  }
}
