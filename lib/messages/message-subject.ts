import { openBytes, sealBytes } from '../envelope/aead';
import { deriveTenantSubkey, type TTenantKey } from '../envelope/tenant-keys';

// The subject the console's messages page shows is message content, so it is stored like the
// content key: sealed under a subkey of the tenant key of the message's version, the AAD binding
// it to its message and tenant (a sealed subject copied onto another row does not open).
const subjectAad = (tenantId: string, messageId: string) => `sealpost:subject:v1:${tenantId}:${messageId}`;

// A subject is one header line: longer ones are kept to this many characters.
export const SUBJECT_MAX_CHARS = 300;

export type SealSubjectOptions = { tenantKey: TTenantKey; tenantId: string; messageId: string; subject: string };

export const sealSubject = ({ tenantKey, tenantId, messageId, subject }: SealSubjectOptions): Buffer =>
  sealBytes({
    key: deriveTenantSubkey(tenantKey, 'subject'),
    plaintext: Buffer.from([...subject].slice(0, SUBJECT_MAX_CHARS).join(''), 'utf8'),
    aad: subjectAad(tenantId, messageId),
  });

export type OpenSubjectOptions = { tenantKey: TTenantKey; tenantId: string; messageId: string; sealed: Uint8Array };

export const openSubject = ({ tenantKey, tenantId, messageId, sealed }: OpenSubjectOptions): string =>
  openBytes({ key: deriveTenantSubkey(tenantKey, 'subject'), sealed, aad: subjectAad(tenantId, messageId) }).toString('utf8');
