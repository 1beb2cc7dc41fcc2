import crypto from 'node:crypto';
import { deriveKey } from '../envelope/aead';
import { getTenantKey, type TKeyContext } from '../envelope/tenant-keys';
import { safeEqualHex } from '../auth/passcodes/passcode-hash';

// An admin secret (an invitation link's, a session cookie's) is `<row id>.<256 random bits>`: the
// row is found by its id, and only an HMAC of the secret under the tenant key is stored, so a
// database reader can neither use nor test one without the key.
export type TAdminSecretPurpose = 'admin-invitation' | 'admin-session';

export type TIssuedSecret = { id: string; token: string; hash: string; keyVersion: number };

export type IssueAdminSecretOptions = TKeyContext & { tenantId: string; purpose: TAdminSecretPurpose };

export async function issueAdminSecret({ db, master, tenantId, purpose }: IssueAdminSecretOptions): Promise<TIssuedSecret> {
  const key = await getTenantKey({ db, master, tenantId });
  const id = crypto.randomUUID();
  const secret = crypto.randomBytes(32).toString('base64url');
  return { id, token: `${id}.${secret}`, hash: hmac(key.key, purpose, id, secret), keyVersion: key.version };
}

// The token's parts, or null when it cannot be one of ours (checked before any lookup).
export function splitAdminToken(token: string | undefined): { id: string; secret: string } | null {
  const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export type MatchesAdminSecretOptions = TKeyContext & {
  tenantId: string;
  purpose: TAdminSecretPurpose;
  id: string;
  secret: string;
  stored: { hash: string; keyVersion: number };
};

// Compared in constant time; a secret made under a key version since removed never matches.
export async function matchesAdminSecret({ db, master, tenantId, purpose, id, secret, stored }: MatchesAdminSecretOptions) {
  let key: Buffer;
  try {
    key = (await getTenantKey({ db, master, tenantId, version: stored.keyVersion })).key;
  } catch {
    return false;
  }
  return safeEqualHex(hmac(key, purpose, id, secret), stored.hash);
}

const hmac = (tenantKey: Buffer, purpose: TAdminSecretPurpose, id: string, secret: string) =>
  crypto.createHmac('sha256', deriveKey(tenantKey, purpose)).update(`${id}:${secret}`).digest('hex');
