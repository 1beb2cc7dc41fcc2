import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { openDatabase, type TDb } from '@/lib/store/db';
import { PG_ADMIN_URL } from './pg-admin-url';

// The end-to-end suites run an installation as a user would: a data dir, the CLI and the server.
// On SQLite its database is the file in the data dir; in the `postgres` vitest project
// (SEALPOST_TEST_DB=postgres) each data dir gets a PostgreSQL database of its own, named after
// it, which the CLI and the server it starts share — the same suites, on PostgreSQL.
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const IS_PG = process.env.SEALPOST_TEST_DB === 'postgres';
// Every database of one test run starts with this; test/helpers/pg-global-setup.ts drops them after.
const E2E_DATABASE_PREFIX = `sealpost_e2e_${process.env.SEALPOST_E2E_RUN ?? 'local'}_`;
const created = new Set<string>();

// CREATE DATABASE, synchronously (runCli is): in a Node child, with the project's own pg.
function ensurePgDatabase(name: string): void {
  if (created.has(name)) return;
  const script = `
    const pg = require('pg');
    const c = new pg.Client({ connectionString: process.env.ADMIN_URL });
    c.connect()
      .then(() => c.query('CREATE DATABASE ' + process.env.NAME))
      .catch((e) => { if (e.code !== '42P04') { console.error(e.message); process.exitCode = 1; } })
      .finally(() => c.end());`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_URL: PG_ADMIN_URL, NAME: name },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`could not create the test database ${name}: ${r.stderr}`);
  created.add(name);
}

// The environment a CLI call or a server of this installation runs with: on PostgreSQL, with
// the data dir's own database (unless the test chose one).
export function withTestDatabase<T extends Record<string, string>>(env: T): T {
  if (!IS_PG || env.DATABASE_URL || !env.SEALPOST_DATA_DIR) return env;
  const name = `${E2E_DATABASE_PREFIX}${crypto.createHash('sha256').update(path.resolve(env.SEALPOST_DATA_DIR)).digest('hex').slice(0, 16)}`;
  ensurePgDatabase(name);
  return { ...env, DATABASE_URL: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`) };
}

// The installation's database, for a test that looks at (or moves the clock of) what the server
// stored. Destroy it when done.
export function openInstallationDatabase(env: Record<string, string>): TDb {
  const url = withTestDatabase(env).DATABASE_URL ?? path.join(env.SEALPOST_DATA_DIR!, 'sealpost.db');
  return openDatabase({ databaseUrl: url });
}

export const isPostgresRun = IS_PG;

// Every open admin session's last passkey or provider check moved to `at` (a test's clock for
// the 5-minute re-verification rule), in the installation's own database.
export async function setAdminVerifiedAt(env: Record<string, string>, at: number): Promise<void> {
  const db = openInstallationDatabase(env);
  try {
    await db.updateTable('admin_sessions').set({ verified_at: at }).where('ended_at', 'is', null).execute();
  } finally {
    await db.destroy();
  }
}
