import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConfig } from '@/lib/env';
import { clearTenantKeyCache } from '@/lib/envelope/tenant-keys';
import { createContext, type TContext } from '@/lib/server/context';
import { createTenant, type TTenant } from '@/lib/tenants/tenants';
import { PG_ADMIN_URL } from './pg-admin-url';

export const makeTempDir = (prefix = 'sealpost-test-') => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

export type TTestContext = TContext & {
  dataDir: string;
  // The environment a `sealpost` child process needs to share this context's database and keys.
  cliEnv: Record<string, string>;
  close(): Promise<void>;
};

// SEALPOST_TEST_DB=postgres runs the same suites on PostgreSQL (the `postgres` vitest project).
export const TEST_DIALECT = process.env.SEALPOST_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

// A new, empty PostgreSQL database on the test server, and how to drop it.
export async function createPgDatabase(prefix = 'sealpost_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      // Without FORCE first: a connection the pool is still closing must not be killed mid-close.
      for (let i = 0; ; i += 1) {
        try {
          await c.query(`DROP DATABASE IF EXISTS ${name}${i >= 20 ? ' WITH (FORCE)' : ''}`);
          break;
        } catch (error) {
          if (i >= 20) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await c.end();
    },
  };
}

// A fresh database (a new SQLite file, or a new PostgreSQL database) and key file, configured as
// `npm start` would be.
export async function createTestContext(env: Record<string, string> = {}): Promise<TTestContext> {
  const dataDir = makeTempDir();
  clearTenantKeyCache();
  let dropDatabase = async () => {};
  const dbEnv: Record<string, string> = {};
  if (TEST_DIALECT === 'postgres') {
    const database = await createPgDatabase();
    dbEnv.DATABASE_URL = database.url;
    dropDatabase = database.drop;
  }
  const config = parseConfig({ SEALPOST_DATA_DIR: dataDir, SEALPOST_DEMO_TENANT: 'off', ...dbEnv, ...env });
  const ctx = await createContext({ config });
  return {
    ...ctx,
    dataDir,
    cliEnv: { SEALPOST_DATA_DIR: dataDir, ...dbEnv },
    async close() {
      await ctx.db.destroy();
      await dropDatabase();
    },
  };
}

let counter = 0;
// Mail domains are unique across tenants: the first tenant of a database is acme.example (the
// domain of sampleEml's sender), later ones get a domain of their own unless one is asked for.
export async function seedTenant(ctx: TContext, overrides: { slug?: string; mailDomain?: string } = {}): Promise<TTenant> {
  counter += 1;
  const slug = overrides.slug ?? `t${counter}-${process.pid}`;
  const isAcmeTaken =
    !overrides.mailDomain && (await ctx.db.selectFrom('tenants').select('id').where('mail_domain', '=', 'acme.example').executeTakeFirst());
  const mailDomain = overrides.mailDomain ?? (isAcmeTaken ? `${slug}.example` : 'acme.example');
  return createTenant({ db: ctx.db, master: ctx.master, slug, name: 'Acme Bank', mailDomain });
}

export const sampleEml = ({
  to = ['bob@gmail.com', 'carol@yahoo.com'],
  subject = 'Your statement',
  attachment = true,
  from = 'Alice Example <alice@acme.example>',
} = {}) =>
  Buffer.from(
    [
      `From: ${from}`,
      `To: ${to.join(', ')}`,
      `Subject: ${subject}`,
      'Message-ID: <orig-1@acme.example>',
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The secret body: account 12345678.',
      ...(attachment
        ? [
            '--b1',
            'Content-Type: application/pdf; name="statement.pdf"',
            'Content-Disposition: attachment; filename="statement.pdf"',
            'Content-Transfer-Encoding: base64',
            '',
            Buffer.from('%PDF-1.4 secret attachment bytes').toString('base64'),
          ]
        : []),
      '--b1--',
      '',
    ].join('\r\n'),
  );
