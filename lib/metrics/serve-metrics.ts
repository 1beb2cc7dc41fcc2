import { readOutboxDepth } from '../mail/outbox';
import type { TContext } from '../server/context';
import { setOutboxProbe, startMetricsServer } from './metrics';

export type ServeMetricsOptions = { ctx: TContext };

// For `sealpost worker` and `sealpost relay` on their own: the same /metrics listener as the web
// process's (scripts/server.mjs starts that one), when SEALPOST_METRICS_PORT is set.
export async function serveMetrics({ ctx }: ServeMetricsOptions): Promise<{ close(): Promise<void> } | null> {
  setOutboxProbe(() => readOutboxDepth({ db: ctx.db }));
  const port = ctx.config.SEALPOST_METRICS_PORT;
  if (port === 'off') return null;
  return startMetricsServer({ host: ctx.config.SEALPOST_METRICS_HOST, port });
}
