import { logger } from '../logger';
import type { TContext } from '../server/context';
import { loadTenantSigner } from './load-tenant-signer';
import { joinMessage, splitMessage } from './mime-entity';
import { signEntity } from './sign-entity';

export type SignMailOptions = { ctx: Pick<TContext, 'db' | 'master'>; tenantId: string; raw: Buffer; from: string; now?: number };

// A mail Sealpost wrote, S/MIME-signed (multipart/signed) with the tenant's certificate for its
// From address (or its newest). A tenant without one sends it unsigned, and the log says so.
export async function signMail({ ctx, tenantId, raw, from, now = Date.now() }: SignMailOptions): Promise<Buffer> {
  const signer = await loadTenantSigner({ ctx, tenantId, from, now });
  if (!signer) {
    logger.warn({ tenantId }, 'S/MIME signing asked for, but the tenant has no signing certificate in date');
    return raw;
  }
  const message = splitMessage({ raw });
  return joinMessage({ outer: message.outer, entity: await signEntity({ entity: message.entity, signer, now: new Date(now) }) });
}
