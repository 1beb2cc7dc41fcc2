import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { logger } from '../logger';
import { createMigrationProvider, type TDialectName } from './migrations';
import type { TDatabase } from './schema';
import { createWalCheckpointer, FALLBACK_AUTOCHECKPOINT_PAGES, type TWalCheckpointer } from './wal-checkpointer';

export type TDb = Kysely<TDatabase> & { dialectName: TDialectName };

export type OpenDatabaseOptions = { databaseUrl: string };

// PostgreSQL returns int8 as text by default; our bigint columns are millisecond times and sizes.
pg.types.setTypeParser(20, (v) => Number(v));

export function openDatabase({ databaseUrl }: OpenDatabaseOptions): TDb {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    // An idle connection the server drops (restart, failover, admin command) emits 'error' on the
    // pool; unhandled, that would end the process. The pool replaces the connection itself.
    pool.on('error', (error) => logger.warn({ code: (error as { code?: string }).code }, 'database connection dropped'));
    const db = new Kysely<TDatabase>({ dialect: new PostgresDialect({ pool }) });
    return Object.assign(db, { dialectName: 'postgres' as const });
  }
  const file = databaseUrl.replace(/^(file|sqlite):(\/\/)?/, '');
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a row the outbox reported as committed survives a power cut, not only a process crash.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  // Shredded keys are overwritten with zeros, not left in free pages for a forensic reader.
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Checkpoints run on a thread of their own (wal-checkpointer.ts); this connection only as a fallback.
  sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = file === ':memory:' ? null : createWalCheckpointer({ file: path.resolve(file) });
  const db = new Kysely<TDatabase>({ dialect: new SqliteDialect({ database: cachingStatements({ sqlite, checkpointer }) }) });
  return Object.assign(db, { dialectName: 'sqlite' as const });
}

export async function migrateToLatest(db: TDb): Promise<void> {
  const migrator = new Migrator({ db, provider: createMigrationProvider(db.dialectName) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
}

// The migrations this code knows that the database has not run (another instance may still be
// running them, or this code is newer than the database).
export async function listPendingMigrations(db: TDb): Promise<string[]> {
  const migrator = new Migrator({ db, provider: createMigrationProvider(db.dialectName) });
  return (await migrator.getMigrations()).filter((m) => !m.executedAt).map((m) => m.name);
}

const STATEMENT_CACHE_SIZE = 500;

// kysely's SQLite driver prepares every query anew; compiling the same SQL again cost the relay
// about a tenth of its time. Statements are kept by their text (least recently used out first).
// A statement is reused only when it is not in the middle of an iteration (a streamed query).
type CachingStatementsOptions = { sqlite: Database.Database; checkpointer: TWalCheckpointer | null };

function cachingStatements({ sqlite, checkpointer }: CachingStatementsOptions): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => {
      cache.clear();
      checkpointer?.close();
      sqlite.close();
    },
    prepare(source: string) {
      checkpointer?.noteCommit();
      const cached = cache.get(source);
      if (cached && !cached.busy) {
        cache.delete(source);
        cache.set(source, cached);
        return cached;
      }
      const statement = sqlite.prepare(source);
      cache.set(source, statement);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}
