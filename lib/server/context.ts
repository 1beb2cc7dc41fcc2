import { getConfig, type TConfig } from '../env';
import { createLocalMasterKeyProvider, loadMasterKeys, type TMasterKeyProvider } from '../envelope/master-key';
import { migrateToLatest, openDatabase, type TDb } from '../store/db';

export type TContext = { config: TConfig; db: TDb; master: TMasterKeyProvider };

export type CreateContextOptions = { config: TConfig };

// One database handle and key ring per process, migrated before first use.
export async function createContext({ config }: CreateContextOptions): Promise<TContext> {
  const db = openDatabase({ databaseUrl: config.databaseUrl });
  await migrateToLatest(db);
  const master = createLocalMasterKeyProvider(
    loadMasterKeys({ dataDir: config.dataDir, envKey: config.SEALPOST_MASTER_KEY, envPreviousKey: config.SEALPOST_MASTER_KEY_PREVIOUS }),
  );
  return { config, db, master };
}

const globalForContext = globalThis as unknown as { sealpostContext?: Promise<TContext> };

export function getContext(): Promise<TContext> {
  globalForContext.sealpostContext ??= createContext({ config: getConfig() });
  return globalForContext.sealpostContext;
}
