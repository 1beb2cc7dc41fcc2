import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '@/lib/store/db';
import { runTransaction } from '@/lib/store/run-transaction';
import { makeTempDir } from './helpers/context';

// SQLite's write-ahead log is copied into the database file by a thread of its own once it has
// grown (lib/store/wal-checkpointer.ts); the event loop's connection would only at 64 MB.
describe('WAL checkpoints on their own thread', () => {
  it('once the log passes 4 MB, its pages reach the database file without the writer checkpointing', async () => {
    const dir = makeTempDir('sealpost-wal-');
    const file = path.join(dir, 'sealpost.db');
    const db = openDatabase({ databaseUrl: `file:${file}` });
    try {
      await migrateToLatest(db);
      await sql`create table blobs (id integer primary key, data blob)`.execute(db);
      const sizeBefore = fs.statSync(file).size;
      // 8 MB in 32 commits of 256 KB each: far below the 64 MB the writer itself would wait for.
      for (let i = 0; i < 32; i += 1) {
        await runTransaction({
          db,
          work: (trx) => sql`insert into blobs (data) values (${Buffer.alloc(256 * 1024, i)})`.execute(trx),
        });
      }
      expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(4 * 1024 * 1024);
      // A statement after a moment notices the log's size (it looks at most every 250 ms) and starts
      // the thread, which checkpoints every 200 ms.
      await new Promise((r) => setTimeout(r, 300));
      await sql`select count(*) from blobs`.execute(db);
      const deadline = Date.now() + 10_000;
      while (fs.statSync(file).size < sizeBefore + 7 * 1024 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(fs.statSync(file).size).toBeGreaterThan(sizeBefore + 7 * 1024 * 1024);
      // And what was checkpointed reads back whole.
      const rows = await sql<{ n: number; total: number }>`select count(*) as n, sum(length(data)) as total from blobs`.execute(db);
      expect(rows.rows[0]).toEqual({ n: 32, total: 32 * 256 * 1024 });
    } finally {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a small database starts no thread: its file stays as the writer left it', async () => {
    const dir = makeTempDir('sealpost-wal-');
    const file = path.join(dir, 'sealpost.db');
    const db = openDatabase({ databaseUrl: `file:${file}` });
    try {
      await migrateToLatest(db);
      await sql`create table small (id integer primary key, data blob)`.execute(db);
      const sizeBefore = fs.statSync(file).size;
      for (let i = 0; i < 10; i += 1) await sql`insert into small (data) values (${Buffer.alloc(10 * 1024, i)})`.execute(db);
      await new Promise((r) => setTimeout(r, 1500));
      await sql`select 1`.execute(db);
      await new Promise((r) => setTimeout(r, 600));
      // Everything is still in the log: nobody checkpointed 100 KB.
      expect(fs.statSync(file).size).toBe(sizeBefore);
      expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(100 * 1024);
    } finally {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
