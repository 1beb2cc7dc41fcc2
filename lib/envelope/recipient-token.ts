import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { AppError } from '../errors';
import { deriveKey } from './aead';
import { getTenantKey, type TKeyContext } from './tenant-keys';

export const RECIPIENT_TOKEN_TYP = 'sealpost-recipient+jwe';
const MAX_TOKEN_CHARS = 2048;

export type TRecipientClaims = { messageId: string; recipientId: string; address: string };

const tokenInvalid = () => new AppError('ENVELOPE_INVALID', 'This link cannot be used.');

export type CreateRecipientTokenOptions = TKeyContext & { tenantId: string; claims: TRecipientClaims };

// The link's per-recipient token: encrypted (not only signed) under a subkey of the tenant key,
// so a link in a proxy log names neither the message's recipient nor anything else.
export async function createRecipientToken({ db, master, tenantId, claims }: CreateRecipientTokenOptions): Promise<string> {
  const tenantKey = await getTenantKey({ db, master, tenantId });
  const payload = new TextEncoder().encode(JSON.stringify({ mid: claims.messageId, rid: claims.recipientId, adr: claims.address }));
  return new CompactEncrypt(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: RECIPIENT_TOKEN_TYP, kid: String(tenantKey.version), tnt: tenantId })
    .encrypt(deriveKey(tenantKey.key, 'recipient-token'));
}

export type ReadRecipientTokenOptions = TKeyContext & { tenantId: string; token: unknown };

export async function readRecipientToken({ db, master, tenantId, token }: ReadRecipientTokenOptions): Promise<TRecipientClaims> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw tokenInvalid();
  try {
    const header = decodeProtectedHeader(token);
    const keys = Object.keys(header).sort().join(',');
    if (keys !== 'alg,enc,kid,tnt,typ' || header.typ !== RECIPIENT_TOKEN_TYP || header.tnt !== tenantId) throw tokenInvalid();
    if (typeof header.kid !== 'string' || !/^[1-9][0-9]{0,5}$/.test(header.kid)) throw tokenInvalid();
    const tenantKey = await getTenantKey({ db, master, tenantId, version: Number(header.kid) });
    const { plaintext } = await compactDecrypt(token, deriveKey(tenantKey.key, 'recipient-token'), {
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
