import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@/lib/env';
import { listPendingMigrations, openDatabase } from '@/lib/store/db';
import { runCliAsync } from './helpers/cli';
import { createPgDatabase, makeTempDir, sampleEml, TEST_DIALECT } from './helpers/context';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

// A database nobody has migrated yet: a new SQLite file, or a new PostgreSQL database.
async function freshDatabase(): Promise<Record<string, string>> {
  const env: Record<string, string> = { SEALPOST_DATA_DIR: makeTempDir(), SEALPOST_DEMO_TENANT: 'off' };
  if (TEST_DIALECT !== 'postgres') return env;
  const database = await createPgDatabase('sealpost_migrate');
  cleanups.push(database.drop);
  return { ...env, DATABASE_URL: database.url };
}

describe('migrations', () => {
  it('four instances starting at once on an empty database and data dir: every migration runs once, all share one master key', async () => {
    const env = await freshDatabase();
    const runs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        runCliAsync(['tenant', 'create', `race${i}`, '--name', `Race ${i}`, '--domain', `race${i}.example`], env),
      ),
    );
    for (const r of runs) expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    // Each tenant key was wrapped by whichever process created it: all four open with the one key on disk.
    const file = path.join(env.SEALPOST_DATA_DIR!, 'm.eml');
    for (let i = 0; i < 4; i += 1) {
      fs.writeFileSync(file, sampleEml({ from: `alice@race${i}.example`, to: ['bob@example.org'] }));
      const sent = await runCliAsync(['send', '--tenant', `race${i}`, file], env);
      expect({ status: sent.status, stderr: sent.stderr }).toEqual({ status: 0, stderr: '' });
    }
    expect(fs.readdirSync(env.SEALPOST_DATA_DIR!).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const db = openDatabase({ databaseUrl: parseConfig(env).databaseUrl });
    try {
      expect(await listPendingMigrations(db)).toEqual([]);
      const rows = await db
        .selectFrom('kysely_migration' as never)
        .select('name' as never)
        .execute();
      const names = rows.map((r) => (r as { name: string }).name);
      expect(names.length).toBeGreaterThan(5);
      expect(new Set(names).size).toBe(names.length);
    } finally {
      await db.destroy();
    }
  });
});
