// The admin console at scale: 100,000 messages and 100,000 audit events in one tenant (plus a
// second tenant's rows the queries must skip), on SQLite and on PostgreSQL (SEALPOST_TEST_DB).
// Measures the streamed CSV export (time, and heap and RSS growth over the whole export against a
// 10,000-row one: streamed, it must not grow with the row count) and the p95 latency of the
// messages and audit queries behind the pages, with each filter.
//   node --expose-gc --import tsx bench/admin/run.ts              (SQLite)
//   SEALPOST_TEST_DB=postgres node --expose-gc --import tsx bench/admin/run.ts
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { exportAuditEvents } from '@/lib/admin/export-audit-events';
import { listAdminMessages, type TMessageSearch } from '@/lib/admin/list-admin-messages';
import { listAuditEvents, type TAuditSearch } from '@/lib/admin/list-audit-events';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, seedTenant, TEST_DIALECT, type TTestContext } from '../../test/helpers/context';

const ROWS = Number(process.env.ROWS ?? 100_000);
const BATCH = 500;
const RUNS = 40;

async function seed(ctx: TTestContext, tenant: TTenant, rows: number, start: number) {
  for (let i = 0; i < rows; i += BATCH) {
    const n = Math.min(BATCH, rows - i);
    const messages = Array.from({ length: n }, (_, j) => ({
      id: crypto.randomUUID(),
      tenant_id: tenant.id,
      sender: `sender${(i + j) % 200}@${tenant.mail_domain}`,
      key_version: 1,
      wrapped_cek: null,
      envelope: null,
      size_bytes: 1000,
      template: 'default',
      idempotency_key: null,
      request_hash: null,
      created_at: start + (i + j) * 60_000,
      expires_at: null,
      revoked_at: null,
      shredded_at: null,
      in_reply_to: null,
      thread_id: null,
    }));
    await ctx.db.insertInto('messages').values(messages).execute();
    await ctx.db
      .insertInto('recipients')
      .values(
        messages.map((m, j) => ({
          id: crypto.randomUUID(),
          message_id: m.id,
          address: `reader${(i + j) % 5000}@example.org`,
          kind: 'to' as const,
        })),
      )
      .execute();
    await ctx.db
      .insertInto('audit_events')
      .values(
        messages.map((m, j) => ({
          tenant_id: tenant.id,
          message_id: m.id,
          type: ['sent', 'passcode_sent', 'signin_ok', 'viewed'][(i + j) % 4]!,
          actor: `reader${(i + j) % 5000}@example.org`,
          data: JSON.stringify({ method: 'passcode' }),
          at: m.created_at,
        })),
      )
      .execute();
  }
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!;

async function timeIt(work: () => Promise<unknown>): Promise<number> {
  await work(); // warm
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const t = performance.now();
    await work();
    times.push(performance.now() - t);
  }
  return p95(times);
}

async function measureExport(ctx: TTestContext, tenant: TTenant, search: Omit<TAuditSearch, 'after'>) {
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  let peakHeap = heap0;
  let peakRss = rss0;
  let chunks = 0;
  let bytes = 0;
  let lines = 0;
  const t = performance.now();
  for await (const chunk of exportAuditEvents({ db: ctx.db, tenantId: tenant.id, search, format: 'csv' })) {
    bytes += chunk.length;
    for (let k = chunk.indexOf('\n'); k !== -1; k = chunk.indexOf('\n', k + 1)) lines += 1;
    // Every 10th page, what is still live after a collection: garbage is not growth.
    chunks += 1;
    if (chunks % 10 === 0) global.gc?.();
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }
  const ms = performance.now() - t;
  return {
    rows: lines - 1,
    ms: Math.round(ms),
    mb: +(bytes / 1e6).toFixed(1),
    peakHeapGrowthMb: +((peakHeap - heap0) / 1e6).toFixed(1),
    rssGrowthMb: +((peakRss - rss0) / 1e6).toFixed(1),
  };
}

const ctx = await createTestContext();
try {
  const tenant = await seedTenant(ctx);
  const other = await seedTenant(ctx);
  const start = Date.now() - ROWS * 60_000;
  const t0 = performance.now();
  await seed(ctx, tenant, ROWS, start);
  await seed(ctx, other, Math.round(ROWS / 10), start);
  // As autovacuum would soon after such a load: the planner's statistics, on both dialects.
  await sql`analyze`.execute(ctx.db);
  console.log(JSON.stringify({ dialect: TEST_DIALECT, rows: ROWS, seedSeconds: Math.round((performance.now() - t0) / 1000) }));

  const small = await measureExport(ctx, tenant, { from: new Date(start + (ROWS - 10_000) * 60_000).toISOString().slice(0, 10) });
  const full = await measureExport(ctx, tenant, {});
  console.log(JSON.stringify({ export: { tenThousandish: small, full } }));

  const midDay = new Date(start + (ROWS / 2) * 60_000).toISOString().slice(0, 10);
  const first = await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: {} });
  let deep: string | null = first.nextAfter;
  for (let i = 0; i < 100 && deep; i += 1)
    deep = (await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: { after: deep } })).nextAfter;
  const messages: Record<string, TMessageSearch> = {
    none: {},
    sender: { sender: 'sender7@' },
    recipient: { recipient: 'reader42@example.org' },
    date: { from: midDay, to: midDay },
    page100: { after: deep ?? undefined },
  };
  const audit: Record<string, TAuditSearch> = {
    none: {},
    type: { type: 'viewed' },
    address: { address: 'reader42@example.org' },
    message: { message: first.items[10]!.id },
    date: { from: midDay, to: midDay },
  };
  const result: Record<string, Record<string, number>> = { messagesP95Ms: {}, auditP95Ms: {} };
  for (const [name, search] of Object.entries(messages))
    result.messagesP95Ms![name] = +(
      await timeIt(() => listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search }))
    ).toFixed(1);
  for (const [name, search] of Object.entries(audit))
    result.auditP95Ms![name] = +(await timeIt(() => listAuditEvents({ db: ctx.db, tenantId: tenant.id, search }))).toFixed(1);
  console.log(JSON.stringify(result));
} finally {
  await ctx.close();
}
