import { z } from 'zod';
import { deriveKey, openBytes, sealBytes } from '../envelope/aead';
import type { TDkimKeyTable } from '../store/schema';

export const DKIM_ALGORITHMS = ['rsa-2048', 'ed25519'] as const;
export const ZDkimAlgorithm = z.enum(DKIM_ALGORITHMS);
export type TDkimAlgorithm = z.infer<typeof ZDkimAlgorithm>;

// One or more DNS labels (RFC 6376 §3.1), lowercase: the name is published as <selector>._domainkey.<domain>.
export const ZDkimSelector = z
  .string()
  .toLowerCase()
  .regex(
    /^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
    'a selector is DNS labels: letters, digits, hyphens',
  );

// A retired key's DNS record stays published (and the key listed) this long: mail signed just
// before a rotation may sit in a queue for days (our own retries give up after five).
export const DKIM_RETIRED_KEEP_MS = 7 * 24 * 60 * 60_000;

const dkimKeyAad = (tenantId: string, keyId: string) => `sealpost:dkim-key:v1:${tenantId}:${keyId}`;
const dkimKeySubkey = (tenantKey: Uint8Array) => deriveKey(tenantKey, 'dkim-private-key');

export type SealDkimKeyOptions = { tenantKey: Uint8Array; tenantId: string; keyId: string; privateKeyPem: string };

// Sealed like an identity provider's client secret: a subkey of the tenant key, the row bound by the AAD.
export const sealDkimKey = ({ tenantKey, tenantId, keyId, privateKeyPem }: SealDkimKeyOptions): Buffer =>
  sealBytes({ key: dkimKeySubkey(tenantKey), plaintext: Buffer.from(privateKeyPem, 'utf8'), aad: dkimKeyAad(tenantId, keyId) });

export type OpenDkimKeyOptions = { tenantKey: Uint8Array; row: Pick<TDkimKeyTable, 'id' | 'tenant_id' | 'private_key'> };

export const openDkimKey = ({ tenantKey, row }: OpenDkimKeyOptions): string =>
  openBytes({ key: dkimKeySubkey(tenantKey), sealed: row.private_key, aad: dkimKeyAad(row.tenant_id, row.id) }).toString('utf8');

export const dkimRecordName = (row: Pick<TDkimKeyTable, 'selector' | 'domain'>) => `${row.selector}._domainkey.${row.domain}`;

// The TXT value to publish (RFC 6376 §3.6.1; k=ed25519 carries the raw 32-byte key, RFC 8463).
export const dkimRecordValue = (row: Pick<TDkimKeyTable, 'algorithm' | 'public_key'>) =>
  `v=DKIM1; k=${row.algorithm === 'ed25519' ? 'ed25519' : 'rsa'}; p=${row.public_key}`;

// The same value as a zone file writes it: character-strings of at most 255 octets (an RSA-2048
// record is longer than one), which resolvers join back together.
export const dkimZoneLine = (row: Pick<TDkimKeyTable, 'algorithm' | 'public_key' | 'selector' | 'domain'>) => {
  const value = dkimRecordValue(row);
  const parts = value.match(/.{1,250}/g) ?? [];
  return `${dkimRecordName(row)}. IN TXT ( ${parts.map((p) => `"${p}"`).join(' ')} )`;
};

export const toDkimKeyView = (row: TDkimKeyTable) => ({
  domain: row.domain,
  selector: row.selector,
  algorithm: row.algorithm,
  state: row.retired_at === null ? ('signing' as const) : ('retired' as const),
  createdAt: new Date(Number(row.created_at)).toISOString(),
  retiredAt: row.retired_at === null ? null : new Date(Number(row.retired_at)).toISOString(),
  // When housekeeping removes a retired key: its DNS record can go then too.
  removeAfter: row.retired_at === null ? null : new Date(Number(row.retired_at) + DKIM_RETIRED_KEEP_MS).toISOString(),
  record: { name: dkimRecordName(row), type: 'TXT', value: dkimRecordValue(row) },
  zoneLine: dkimZoneLine(row),
});
