import { openBytes, sealBytes } from './aead';
import { deriveTenantSubkey, type TTenantKey } from './tenant-keys';

// The AAD binds a wrapped content key to its message and tenant: a key moved to another row
// (by someone who can write to the database) no longer unwraps.
const cekAad = (tenantId: string, messageId: string) => `sealpost:cek:v1:${tenantId}:${messageId}`;

export type WrapContentKeyOptions = { tenantKey: TTenantKey; tenantId: string; messageId: string; contentKey: Uint8Array };

export const wrapContentKey = ({ tenantKey, tenantId, messageId, contentKey }: WrapContentKeyOptions): Buffer =>
  sealBytes({ key: deriveTenantSubkey(tenantKey, 'content-key'), plaintext: contentKey, aad: cekAad(tenantId, messageId) });

export type UnwrapContentKeyOptions = { tenantKey: TTenantKey; tenantId: string; messageId: string; wrapped: Uint8Array };

export const unwrapContentKey = ({ tenantKey, tenantId, messageId, wrapped }: UnwrapContentKeyOptions): Buffer =>
  openBytes({ key: deriveTenantSubkey(tenantKey, 'content-key'), sealed: wrapped, aad: cekAad(tenantId, messageId) });
