// The admin console at scale: 100,000 messages and 100,000 audit events in one tenant (plus a
// second tenant's rows the queries must skip), on SQLite or PostgreSQL (--pg, or
// SEALPOST_TEST_DB=postgres). Two layers are measured:
// - over HTTP, against the production build (scripts/server.mjs, as `npm start` runs it) with a
//   real admin session: the messages and audit pages' p50/p95 with each filter, and the streamed
//   CSV export's time and the server process's RSS growth (sampled from /proc) for ~10,000 rows
//   against all 100,000: streamed, it must not grow with the row count;
// - in process, the lib queries behind those pages (p50/p95), without rendering.
//   npm run build && npm run bench:admin [-- --pg]
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { sql } from 'kysely';
import { adminCookieName, createAdminSession } from '@/lib/admin/admin-session';
import { exportAuditEvents } from '@/lib/admin/export-audit-events';
import { listAdminMessages, type TMessageSearch } from '@/lib/admin/list-admin-messages';
import { listAuditEvents, type TAuditSearch } from '@/lib/admin/list-audit-events';
import { getTenantKey } from '@/lib/envelope/tenant-keys';
import { sealSubject } from '@/lib/messages/message-subject';
import type { TTenant } from '@/lib/tenants/tenants';

if (process.argv.includes('--pg')) process.env.SEALPOST_TEST_DB = 'postgres';
const { createTestContext, seedTenant, TEST_DIALECT } = await import('../../test/helpers/context');
const { startServer, requestAs } = await import('../../test/helpers/server');
type TTestContext = Awaited<ReturnType<typeof createTestContext>>;

const ROWS = Number(process.env.ROWS ?? 100_000);
const BATCH = 500;
const RUNS = Number(process.env.RUNS ?? 30);

async function seed(ctx: TTestContext, tenant: TTenant, rows: number, start: number) {
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  for (let i = 0; i < rows; i += BATCH) {
    const n = Math.min(BATCH, rows - i);
    const messages = Array.from({ length: n }, (_, j) => {
      const id = crypto.randomUUID();
      return {
        id,
        tenant_id: tenant.id,
        sender: `sender${(i + j) % 200}@${tenant.mail_domain}`,
        key_version: tenantKey.version,
        wrapped_cek: null,
        envelope: null,
        size_bytes: 1000,
        template: 'default',
        restrictions: 'none' as const,
        idempotency_key: null,
        request_hash: null,
        created_at: start + (i + j) * 60_000,
        expires_at: null,
        revoked_at: null,
        shredded_at: null,
        in_reply_to: null,
        thread_id: null,
        // Every message with a sealed subject: the page opens all 50 of its rows' subjects.
        subject_sealed: sealSubject({ tenantKey, tenantId: tenant.id, messageId: id, subject: `Statement ${i + j}` }),
      };
    });
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

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * q) - 1]!;

async function timeIt(work: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await work(); // warm
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const t = performance.now();
    await work();
    times.push(performance.now() - t);
  }
  return { p50: +quantile(times, 0.5).toFixed(1), p95: +quantile(times, 0.95).toFixed(1) };
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

// The export over HTTP, read as a browser would; the server's RSS sampled every 20 ms meanwhile.
async function measureExport(port: number, host: string, cookie: string, pid: number, query: string) {
  const rss0 = rssOf(pid);
  let peak = rss0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, 20);
  const t = performance.now();
  const { status, bytes, lines } = await new Promise<{ status: number; bytes: number; lines: number }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/admin/audit/export?format=csv${query}`, headers: { host, cookie } }, (res) => {
      let b = 0;
      let l = 0;
      res.on('data', (chunk: Buffer) => {
        b += chunk.length;
        for (let k = chunk.indexOf(10); k !== -1; k = chunk.indexOf(10, k + 1)) l += 1;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: b, lines: l }));
    });
    req.on('error', reject);
  });
  const ms = performance.now() - t;
  clearInterval(sampler);
  peak = Math.max(peak, rssOf(pid));
  if (status !== 200) throw new Error(`export answered ${status}`);
  return {
    rows: lines - 1,
    ms: Math.round(ms),
    mb: +(bytes / 1e6).toFixed(1),
    serverRssMb: +(rss0 / 1e6).toFixed(0),
    serverRssGrowthMb: +((peak - rss0) / 1e6).toFixed(1),
  };
}

// The same export in this process, a collection after every page: what is still live is what the
// export holds (garbage is not growth), so heap growth here is the streaming claim itself.
async function measureExportInProcess(ctx: TTestContext, tenant: TTenant, search: Omit<TAuditSearch, 'after'>) {
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let peakHeap = heap0;
  let chunks = 0;
  let lines = 0;
  const t = performance.now();
  for await (const chunk of exportAuditEvents({ db: ctx.db, tenantId: tenant.id, search, format: 'csv' })) {
    for (let k = chunk.indexOf('\n'); k !== -1; k = chunk.indexOf('\n', k + 1)) lines += 1;
    chunks += 1;
    global.gc?.();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  return { rows: lines - 1, ms: Math.round(performance.now() - t), peakHeapGrowthMb: +((peakHeap - heap0) / 1e6).toFixed(1) };
}

const ctx = await createTestContext();
try {
  const tenant = await seedTenant(ctx, { slug: 'bench' });
  const other = await seedTenant(ctx);
  const start = Date.now() - ROWS * 60_000;
  const t0 = performance.now();
  await seed(ctx, tenant, ROWS, start);
  await seed(ctx, other, Math.round(ROWS / 10), start);
  // As autovacuum would soon after such a load: the planner's statistics, on both dialects.
  await sql`analyze`.execute(ctx.db);
  console.log(JSON.stringify({ dialect: TEST_DIALECT, rows: ROWS, seedSeconds: Math.round((performance.now() - t0) / 1000) }));

  const midDay = new Date(start + (ROWS / 2) * 60_000).toISOString().slice(0, 10);
  const tenThousandFrom = new Date(start + (ROWS - 10_000) * 60_000).toISOString().slice(0, 10);
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
    event: { type: 'viewed' },
    address: { address: 'reader42@example.org' },
    message: { message: first.items[10]!.id },
    date: { from: midDay, to: midDay },
  };

  // Over HTTP: the production server on this database, an owner's session cookie.
  const adminId = crypto.randomUUID();
  await ctx.db
    .insertInto('admins')
    .values({
      id: adminId,
      tenant_id: tenant.id,
      email: 'bench@acme.example',
      role: 'owner',
      webauthn_user_id: 'bench',
      created_at: Date.now(),
    })
    .execute();
  const session = await createAdminSession({ ctx, tenant, adminId });
  const cookie = `${adminCookieName(ctx.config)}=${session.value}`;
  const server = await startServer({ ...ctx.cliEnv, SEALPOST_DEMO_TENANT: 'off', LOG_LEVEL: 'warn' });
  try {
    const host = `bench.localhost:${server.port}`;
    const page = async (path: string) => {
      const r = await requestAs(server.port, host, path, { headers: { cookie } });
      if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
    };
    const qs = (o: Record<string, string | undefined>) =>
      new URLSearchParams(Object.entries(o).filter((e): e is [string, string] => !!e[1])).toString();
    const httpResult: Record<string, Record<string, { p50: number; p95: number }>> = { messagesPage: {}, auditPage: {} };
    for (const [name, search] of Object.entries(messages))
      httpResult.messagesPage![name] = await timeIt(() => page(`/admin/messages?${qs(search)}`));
    for (const [name, search] of Object.entries(audit))
      httpResult.auditPage![name] = await timeIt(() => page(`/admin/audit?${qs(search)}`));
    console.log(JSON.stringify({ httpMs: httpResult }));
    const pid = server.child.pid!;
    // Once first, so the first measured export does not count the route's first load.
    await measureExport(server.port, host, cookie, pid, `&from=${new Date().toISOString().slice(0, 10)}`);
    const small = await measureExport(server.port, host, cookie, pid, `&from=${tenThousandFrom}`);
    const full = await measureExport(server.port, host, cookie, pid, '');
    // Again: a streamed export reuses what the first one grew to (growth near 0 over its start).
    const fullAgain = await measureExport(server.port, host, cookie, pid, '');
    console.log(JSON.stringify({ httpExportCsv: { tenThousandish: small, full, fullAgain } }));
  } finally {
    await server.stop();
  }

  const inProcess = {
    tenThousandish: await measureExportInProcess(ctx, tenant, { from: tenThousandFrom }),
    full: await measureExportInProcess(ctx, tenant, {}),
  };
  console.log(JSON.stringify({ inProcessExportCsv: inProcess }));
  const result: Record<string, Record<string, { p50: number; p95: number }>> = { messages: {}, audit: {} };
  for (const [name, search] of Object.entries(messages))
    result.messages![name] = await timeIt(() => listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search }));
  for (const [name, search] of Object.entries(audit))
    result.audit![name] = await timeIt(() => listAuditEvents({ db: ctx.db, tenantId: tenant.id, search }));
  console.log(JSON.stringify({ libQueryMs: result }));
} finally {
  await ctx.close();
}
