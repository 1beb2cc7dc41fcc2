import type { TContext } from '../server/context';
import { encryptEntity, type TSmimeCipher } from './encrypt-entity';
import { loadTenantSigner } from './load-tenant-signer';
import { joinMessage, splitMessage } from './mime-entity';
import { signEntity } from './sign-entity';

export type BuildSmimeMailOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenantId: string;
  // The message as sent (Bcc already stripped).
  mime: Buffer;
  from: string;
  certificate: Uint8Array;
  // AES-256-GCM for a recipient who announced it, AES-256-CBC otherwise (chooseCipher).
  cipher?: TSmimeCipher;
  now?: number;
};

// The message itself for one recipient: its own header fields outside, its MIME entity signed
// (when the tenant has a signing certificate) and then encrypted to the recipient's certificate
// (RFC 8551 §3.7: sign, then encrypt).
export async function buildSmimeMail({
  ctx,
  tenantId,
  mime,
  from,
  certificate,
  cipher,
  now = Date.now(),
}: BuildSmimeMailOptions): Promise<Buffer> {
  const message = splitMessage({ raw: mime });
  const signer = await loadTenantSigner({ ctx, tenantId, from, now });
  const inner = signer ? await signEntity({ entity: message.entity, signer, now: new Date(now) }) : message.entity;
  return joinMessage({ outer: message.outer, entity: await encryptEntity({ content: inner, recipients: [certificate], cipher }) });
}
