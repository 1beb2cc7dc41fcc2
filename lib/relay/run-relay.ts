import { logger } from '../logger';
import { startOutboxWorker } from '../mail/outbox-worker';
import type { TContext } from '../server/context';
import { startRelay } from './start-relay';

export type RunRelayOptions = { ctx: TContext; isWorkerOn: boolean };

// `sealpost relay`: the relay on SEALPOST_RELAY_PORT, and the outbox worker that delivers what it
// accepted. Returns the graceful stop: DATA in flight is answered first, then the worker stops.
export async function runRelay({ ctx, isWorkerOn }: RunRelayOptions): Promise<() => Promise<void>> {
  const port = ctx.config.SEALPOST_RELAY_PORT;
  if (port === 'off') throw new Error('SEALPOST_RELAY_PORT is off');
  const relay = await startRelay({ ctx, port, host: ctx.config.HOST });
  const worker = isWorkerOn ? startOutboxWorker({ ctx }) : null;
  // The port actually bound (0 asks the system for one), for whoever started this process.
  logger.info({ port: relay.port }, 'relay ready');
  return async () => {
    await relay.stop();
    await worker?.stop();
  };
}
