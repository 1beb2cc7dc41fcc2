import { logger } from '../logger';
import { readOutboxDepth } from '../mail/outbox';
import { startOutboxWorker } from '../mail/outbox-worker';
import { setOutboxProbe } from '../metrics/metrics';
import { startRelay } from '../relay/start-relay';
import { createTenant, getTenantBySlug, portalOrigin } from '../tenants/tenants';
import { getContext } from './context';
import { onShutdown } from './shutdown';

export const DEMO_TENANT = { slug: 'demo', name: 'Demo Organisation', mailDomain: 'example.com' };

// The embedded default: with nothing configured there is a demo tenant to try the journey on,
// and the web process delivers its own outbox (SEALPOST_WORKER=off leaves that to `sealpost worker`).
export async function bootServer(): Promise<void> {
  const ctx = await getContext();
  if (ctx.config.SEALPOST_DEMO_TENANT === 'on' && !(await getTenantBySlug(ctx.db, DEMO_TENANT.slug))) {
    try {
      const tenant = await createTenant({ db: ctx.db, master: ctx.master, ...DEMO_TENANT });
      logger.info({ tenant: tenant.slug, url: portalOrigin(ctx.config, tenant) }, 'created the demo tenant');
    } catch (error) {
      // Another instance starting at the same moment created it first.
      if (!(await getTenantBySlug(ctx.db, DEMO_TENANT.slug))) throw error;
    }
  }
  if (ctx.config.SEALPOST_WORKER === 'on') {
    const worker = startOutboxWorker({ ctx });
    onShutdown(() => worker.stop());
  }
  setOutboxProbe(() => readOutboxDepth({ db: ctx.db }));
  // The SMTP relay in the same process, unless SEALPOST_RELAY_PORT=off (or `sealpost relay` runs it).
  const relayPort = ctx.config.SEALPOST_RELAY_PORT;
  if (relayPort !== 'off') {
    const relay = await startRelay({ ctx, port: relayPort, host: ctx.config.HOST });
    onShutdown(() => relay.stop());
  }
  logger.info(
    { port: ctx.config.PORT, baseDomain: ctx.config.SEALPOST_BASE_DOMAIN, smtp: ctx.config.SMTP_URL ? 'smtp' : 'local mailbox' },
    'sealpost ready',
  );
}
