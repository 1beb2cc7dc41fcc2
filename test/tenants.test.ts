import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { isAppError } from '@/lib/errors';
import { createMigrationProvider } from '@/lib/store/migrations';
import { createTenant, listTenants } from '@/lib/tenants/tenants';
import { runCli } from './helpers/cli';
import { createTestContext, type TTestContext } from './helpers/context';

let ctx: TTestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx?.close());

const create = (slug: string, mailDomain: string) => createTenant({ db: ctx.db, master: ctx.master, slug, name: 'Bank', mailDomain });
async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe('a mail domain belongs to one tenant', () => {
  it('a second tenant on the same domain, in any case, is refused with the holder named', async () => {
    await create('first-bank', 'first.example');
    for (const domain of ['first.example', 'FIRST.example', 'First.Example']) {
      await expect(refusal(create(`second-${domain.length}-${domain.charCodeAt(0)}`, domain))).resolves.toEqual({
        code: 'CONFLICT',
        message: 'The mail domain first.example already belongs to tenant "first-bank"',
      });
    }
    // A subdomain is another domain.
    await expect(create('sub-bank', 'mail.first.example')).resolves.toMatchObject({ mail_domain: 'mail.first.example' });
  });

  it('the database refuses a duplicate even past the check (a unique index on the lower-cased domain)', async () => {
    await create('index-bank', 'index.example');
    const error = await ctx.db
      .insertInto('tenants')
      .values({
        id: crypto.randomUUID(),
        slug: 'index-bank-2',
        name: 'x',
        mail_domain: 'INDEX.example',
        custom_domain: null,
        created_at: Date.now(),
      })
      .execute()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error, 'the insert must fail').not.toBeNull();
  });

  it('of ten tenants created at once on one domain, exactly one is made', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => create(`race-${i}`, 'race.example')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isAppError(r.reason) && r.reason.code).toBe('CONFLICT');
    expect((await listTenants(ctx.db)).filter((t) => t.mail_domain === 'race.example')).toHaveLength(1);
  });

  it('`sealpost tenant create` says so and exits non-zero', () => {
    const ok = runCli(['tenant', 'create', 'cli-bank', '--name', 'CLI Bank', '--domain', 'cli.example'], ctx.cliEnv);
    expect(ok.status).toBe(0);
    const dup = runCli(['tenant', 'create', 'cli-bank-2', '--name', 'CLI Bank 2', '--domain', 'Cli.Example'], ctx.cliEnv);
    expect(dup.status).toBe(1);
    expect(dup.stdout).toBe('');
    expect(dup.stderr).toBe('sealpost: The mail domain cli.example already belongs to tenant "cli-bank"\n');
  });

  // Last: it takes the index away to build a database from before the rule.
  it('an existing database with two tenants on one domain is not upgraded in silence: the migration names them', async () => {
    await sql`drop index tenants_mail_domain`.execute(ctx.db);
    for (const slug of ['dup-a', 'dup-b']) {
      await ctx.db
        .insertInto('tenants')
        .values({
          id: crypto.randomUUID(),
          slug,
          name: 'x',
          mail_domain: slug === 'dup-a' ? 'dup.example' : 'DUP.example',
          custom_domain: null,
          created_at: 0,
        })
        .execute();
    }
    const migration = (await createMigrationProvider(ctx.db.dialectName).getMigrations())['0006_unique_mail_domain']!;
    await expect(migration.up(ctx.db)).rejects.toThrow(/dup\.example \(dup-a, dup-b\)/);
  });
});
