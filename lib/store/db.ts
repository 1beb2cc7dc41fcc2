import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, type DialectAdapter, type SqliteDatabase } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { logger } from '../logger';
import { createMigrationProvider, type TDialectName } from './migrations';
import type { TDatabase } from './schema';
import { createWalCheckpointer, FALLBACK_AUTOCHECKPOINT_PAGES, type TWalCheckpointer } from './wal-checkpointer';

// sqliteFile: the SQLite database's path (null in memory), for the migration lock beside it.
export type TDb = Kysely<TDatabase> & { dialectName: TDialectName; sqliteFile?: string | null };

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
  const db = new Kysely<TDatabase>({
    dialect: new TransactionalDdlSqliteDialect({ database: cachingStatements({ sqlite, checkpointer }) }),
  });
  return Object.assign(db, { dialectName: 'sqlite' as const, sqliteFile: file === ':memory:' ? null : path.resolve(file) });
}

// kysely's SQLite adapter says SQLite has no transactional DDL, so its migrator ran each migration
// on its own, outside any transaction: a crash mid-migration left half a schema. SQLite has it;
// all pending migrations now run in one transaction.
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
class TransactionalDdlSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

// kysely takes no lock on SQLite either (it assumes one process): two processes starting at once
// on one data dir (`npm start` and `sealpost worker`) both found a migration pending and both ran
// it ("table already exists"). The lock is an exclusive transaction on a small file beside the
// database, so it never waits on the database's own write lock; the next process waits for it
// (synchronously, at start-up only) and then finds nothing pending.
async function withSqliteMigrationLock<T>(file: string, run: () => Promise<T>): Promise<T> {
  const lock = new Database(`${file}.migrate-lock`);
  try {
    lock.pragma('busy_timeout = 120000');
    lock.exec('BEGIN EXCLUSIVE');
    try {
      return await run();
    } finally {
      lock.exec('COMMIT');
    }
  } finally {
    lock.close();
  }
}

export async function migrateToLatest(db: TDb): Promise<void> {
  const migrator = new Migrator({ db, provider: createMigrationProvider(db.dialectName) });
  // PostgreSQL: kysely's migrator holds an advisory lock itself.
  const { error, results } = db.sqliteFile
    ? await withSqliteMigrationLock(db.sqliteFile, () => migrator.migrateToLatest())
    : await migrator.migrateToLatest();
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
