import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@/lib/env';
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { listPendingMigrations, openDatabase } from '@/lib/store/db';
import { createMigrationProvider } from '@/lib/store/migrations';
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

describe('0015_admin_oidc', () => {
  it("keeps a reader's federated sign-in under way as a recipient's; an admin's may name no message", async () => {
    const env = await freshDatabase();
    const db = openDatabase({ databaseUrl: parseConfig(env).databaseUrl });
    try {
      const migrator = new Migrator({ db, provider: createMigrationProvider(db.dialectName) });
      const before = await migrator.migrateTo('0014_admin_console');
      expect(before.error).toBeUndefined();
      await sql`insert into tenants (id, slug, name, mail_domain, created_at) values ('t1', 'acme', 'Acme', 'acme.example', 1)`.execute(db);
      await sql`insert into messages (id, tenant_id, sender, key_version, size_bytes, template, created_at)
        values ('m1', 't1', 'a@acme.example', 1, 10, 'default', 1)`.execute(db);
      await sql`insert into federated_signins (id, tenant_id, message_id, link_token, provider, browser_hash, keep, switch_account, status, created_at, expires_at)
        values ('s1', 't1', 'm1', 'tok', 'google', 'h', 1, 0, 'redirected', 1, 99)`.execute(db);
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const row = await db.selectFrom('federated_signins').selectAll().where('id', '=', 's1').executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        message_id: 'm1',
        link_token: 'tok',
        provider: 'google',
        keep: 1,
        status: 'redirected',
        purpose: 'recipient',
        next_path: null,
      });
      expect(Number(row.expires_at)).toBe(99);
      await sql`insert into federated_signins (id, tenant_id, provider, browser_hash, keep, switch_account, status, created_at, expires_at, purpose)
        values ('s2', 't1', 'oidc-acme-corp', 'h', 0, 0, 'started', 1, 99, 'admin')`.execute(db);
      // The message's foreign key still holds: its sign-ins go with it.
      await sql`delete from messages where id = 'm1'`.execute(db);
      expect((await db.selectFrom('federated_signins').select('id').execute()).map((r) => r.id)).toEqual(['s2']);
    } finally {
      await db.destroy();
    }
  });
});
