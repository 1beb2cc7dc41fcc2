import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { parseConfig } from '@/lib/env';
import { maxEnvelopeChars } from '@/lib/envelope/envelope';
import { openMessage } from '@/lib/envelope/open-message';
import { readRecipientToken } from '@/lib/envelope/recipient-token';
import { clearTenantKeyCache } from '@/lib/envelope/tenant-keys';
import { isAppError } from '@/lib/errors';
import { createContext, type TContext } from '@/lib/server/context';
import { runCli, startCli, stopChild } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { requestAs, startServer, type TServer } from './helpers/server';
import { startSmtpSink, type TReceivedMail, type TSmtpSink } from './helpers/smtp-sink';
import { isPostgresRun, openInstallationDatabase, withTestDatabase } from './helpers/installation';
import { readStoredEnvelope } from './helpers/stored-envelope';

const MAX = maxEnvelopeChars(25 * 1024 * 1024);

// What a recipient's mail client sees: the wrapper's link, and message.html's form.
function readWrapper(mail: TReceivedMail) {
  const attachment = mail.parsed.attachments.find((a) => a.filename === 'message.html');
  const html = attachment?.content.toString('utf8') ?? '';
  const action = /<form[^>]* action="([^"]+)" method="post"/.exec(html)?.[1];
  const rt = /name="rt" value="([^"]+)"/.exec(html)?.[1];
  const envelope = /name="envelope" value="([^"]+)"/.exec(html)?.[1];
  const link = /href="([^"]+\/r\/[^"]+)"/.exec(String(mail.parsed.html))?.[1];
  return { html, action, rt, envelope, link };
}

// Everything the installation's database holds: on SQLite its files as they are on disk (free
// pages and the WAL included), on PostgreSQL every row of every table as text.
async function storedBytes(dataDir: string): Promise<string> {
  if (!isPostgresRun) {
    const files = ['sealpost.db', 'sealpost.db-wal'].map((f) => path.join(dataDir, f)).filter((f) => fs.existsSync(f));
    return Buffer.concat(files.map((f) => fs.readFileSync(f))).toString('latin1');
  }
  const db = openInstallationDatabase({ SEALPOST_DATA_DIR: dataDir });
  try {
    const tables = await db.introspection.getTables();
    const rows = [];
    for (const t of tables) {
      const { rows: found } = await sql<{ row: string }>`select ${sql.table(t.name)}::text as row from ${sql.table(t.name)}`.execute(db);
      rows.push(...found.map((r) => r.row));
    }
    // bytea columns come out as hex: the text of each, decoded, is searched too.
    return rows.map((r) => `${r}\n${r.replace(/\\+x([0-9a-f]+)/g, (_, hex) => Buffer.from(hex, 'hex').toString('latin1'))}`).join('\n');
  } finally {
    await db.destroy();
  }
}

async function openAs(dataDir: string, tenantId: string, token: unknown, env: Record<string, string> = {}) {
  clearTenantKeyCache();
  const ctx: TContext = await createContext({
    config: parseConfig(withTestDatabase({ SEALPOST_DATA_DIR: dataDir, SEALPOST_DEMO_TENANT: 'off', ...env })),
  });
  try {
    return await openMessage({ db: ctx.db, master: ctx.master, tenantId, token, maxChars: MAX });
  } finally {
    await ctx.db.destroy();
  }
}

function assertWrappers(sink: TSmtpSink, _raw: Buffer, origin: string) {
  expect(sink.mails.map((m) => m.rcptTo).sort()).toEqual([['bob@gmail.com'], ['carol@yahoo.com']]);
  return Promise.all(
    sink.mails.map(async (mail) => {
      expect(mail.parsed.to && 'text' in mail.parsed.to ? mail.parsed.to.text : '').toBe(mail.rcptTo[0]);
      expect(mail.parsed.subject).toBe('Your statement');
      expect(mail.parsed.from?.text).toContain('alice@acme.example');
      expect(String(mail.parsed.html)).toContain('Read the message');
      expect(mail.parsed.text).toContain('Read the message');
      const w = readWrapper(mail);
      expect(w.action).toBe(`${origin}/open`);
      expect(w.html).toContain('>Read the message</button>');
      expect(w.link).toBe(`${origin}/r/${w.rt}`);
      // Nothing of the message is readable in the wrapper mail but its subject.
      expect(mail.raw.toString('latin1')).not.toContain('secret body');
      expect(mail.raw.toString('latin1')).not.toContain('statement.pdf');
      return { mail, ...w };
    }),
  );
}

describe('end to end: sealpost CLI → SMTP', () => {
  let sink: TSmtpSink;
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    sink = await startSmtpSink();
    dataDir = makeTempDir();
    env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', PORT: '3000' };
  });
  afterAll(() => sink.close());

  it('creates a tenant, sends an .eml with two recipients and an attachment, and each receives a working wrapper', async () => {
    const created = runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], env);
    expect(created.status, created.stderr).toBe(0);
    expect(created.json).toMatchObject({ slug: 'acme', host: 'acme.localhost', url: 'http://acme.localhost:3000' });
    const tenantId = created.json.id as string;

    const raw = sampleEml();
    const file = path.join(dataDir, 'statement.eml');
    fs.writeFileSync(file, raw);
    const sent = runCli(['send', '--tenant', 'acme', file], env);
    expect(sent.status, sent.stderr).toBe(0);
    expect(sent.json.messageId).toMatch(/^[0-9a-f-]{36}$/);

    const worker = startCli(['worker'], env);
    try {
      await sink.waitFor(2);
    } finally {
      await stopChild(worker);
    }
    const wrappers = await assertWrappers(sink, raw, 'http://acme.localhost:3000');
    for (const w of wrappers) {
      const opened = await openAs(dataDir, tenantId, w.envelope);
      expect(opened.message.id).toBe(sent.json.messageId);
      expect(Buffer.from(opened.mime).equals(raw)).toBe(true);
      const ctx = await createContext({
        config: parseConfig(withTestDatabase({ SEALPOST_DATA_DIR: dataDir, SEALPOST_DEMO_TENANT: 'off' })),
      });
      const claims = await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId, token: w.rt });
      await ctx.db.destroy();
      expect(claims).toMatchObject({ messageId: sent.json.messageId, address: w.mail.rcptTo[0] });
    }

    // The database holds no body, attachment or subject in the clear.
    const disk = await storedBytes(dataDir);
    // What is stored in the clear is there to be found (the tenant's mail domain): the search reads it all.
    expect(disk).toContain('acme.example');
    for (const secret of [
      'secret body',
      'Your statement',
      'statement.pdf',
      Buffer.from('%PDF-1.4 secret attachment bytes').toString('base64'),
    ]) {
      expect(disk).not.toContain(secret);
    }

    // Master key rotation re-wraps every tenant key; every envelope still opens.
    const keyBefore = fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8');
    const rotated = runCli(['master', 'rotate'], env);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(rotated.json.rewrapped).toBeGreaterThanOrEqual(1);
    expect(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8')).not.toBe(keyBefore);
    expect(fs.existsSync(path.join(dataDir, 'master.key.previous'))).toBe(false);
    expect(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await openAs(dataDir, tenantId, wrappers[0]!.envelope)).mime).equals(raw)).toBe(true);

    // Revocation: every copy of the envelope, in any mailbox, is dead.
    const revoked = runCli(['revoke', sent.json.messageId], env);
    expect(revoked.status, revoked.stderr).toBe(0);
    for (const w of wrappers) {
      const error = await openAs(dataDir, tenantId, w.envelope).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAppError(error) && error.code).toBe('ENVELOPE_REVOKED');
    }
  });

  it('encrypt --out writes the wrapper mails without sending them', () => {
    const file = path.join(dataDir, 'plain.eml');
    fs.writeFileSync(file, sampleEml());
    const before = sink.mails.length;
    const out = path.join(dataDir, 'out');
    const r = runCli(['encrypt', '--tenant', 'acme', '--out', out, file], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.files).toHaveLength(2);
    for (const f of r.json.files as string[]) expect(fs.readFileSync(f, 'utf8')).toContain('message.html');
    expect(sink.mails.length).toBe(before);
  });

  it('refuses an address list that reads two ways, naming the header, and sends nothing', async () => {
    const file = path.join(dataDir, 'hostile.eml');
    fs.writeFileSync(file, sampleEml({ to: ['bob@gmail.com evil: mallory@evil.example'] }));
    const before = sink.mails.length;
    const r = runCli(['send', '--tenant', 'acme', file], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('The To header is refused');
    const worker = startCli(['worker'], env);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      await stopChild(worker);
    }
    expect(sink.mails.length).toBe(before);
    expect(sink.mails.flatMap((m) => m.rcptTo)).not.toContain('mallory@evil.example');
  });

  it('says clearly what is wrong with bad input', () => {
    const missing = runCli(['send', '--tenant', 'acme', '/nonexistent.eml'], env);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('not found');
    const noTenant = runCli(['send', '--tenant', 'nope', path.join(dataDir, 'plain.eml')], env);
    expect(noTenant.stderr).toContain('No tenant "nope"');
    const badSlug = runCli(['tenant', 'create', 'Bad Slug!', '--name', 'x', '--domain', 'x.example'], env);
    expect(badSlug.stderr).toContain('Invalid slug');
    const badBranding = path.join(dataDir, 'branding.json');
    fs.writeFileSync(badBranding, JSON.stringify({ primaryColour: 'red; background:url(x)', logo: 'javascript:alert(1)' }));
    const b = runCli(['branding', 'set', '--tenant', 'acme', badBranding], env);
    expect(b.status).toBe(1);
    expect(b.stderr).toContain('primaryColour');
    expect(b.stderr).toContain('logo');
  });
});

describe('master key rotation with keys from the environment', () => {
  it('re-wraps under the new SEALPOST_MASTER_KEY; the old key alone no longer opens anything', async () => {
    const dataDir = makeTempDir();
    const oldKey = Buffer.alloc(32, 1).toString('base64url');
    const newKey = Buffer.alloc(32, 2).toString('base64url');
    const base = { SEALPOST_DATA_DIR: dataDir };
    const t = runCli(['tenant', 'create', 'envkeys', '--name', 'Env', '--domain', 'acme.example'], {
      ...base,
      SEALPOST_MASTER_KEY: oldKey,
    });
    const file = path.join(dataDir, 'm.eml');
    fs.writeFileSync(file, sampleEml());
    const out = path.join(dataDir, 'out');
    const sent = runCli(['encrypt', '--tenant', 'envkeys', '--out', out, file], { ...base, SEALPOST_MASTER_KEY: oldKey });
    expect(sent.status, sent.stderr).toBe(0);
    const r = runCli(['master', 'rotate'], { ...base, SEALPOST_MASTER_KEY: newKey, SEALPOST_MASTER_KEY_PREVIOUS: oldKey });
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.rewrapped).toBe(1);
    expect(fs.existsSync(path.join(dataDir, 'master.key'))).toBe(false);

    const ctx = await createContext({ config: parseConfig(withTestDatabase({ ...base, SEALPOST_MASTER_KEY: newKey })) });
    const row = await ctx.db.selectFrom('messages').select('id').executeTakeFirstOrThrow();
    const envelope = await readStoredEnvelope(ctx.db, row.id);
    await ctx.db.destroy();
    const opened = await openAs(dataDir, t.json.id, envelope, { SEALPOST_MASTER_KEY: newKey });
    expect(Buffer.from(opened.mime).equals(sampleEml())).toBe(true);
    await expect(openAs(dataDir, t.json.id, envelope, { SEALPOST_MASTER_KEY: oldKey })).rejects.toThrow();
  });
});

describe('end to end: POST /api/v1/messages → SMTP', () => {
  let sink: TSmtpSink;
  let server: TServer;
  let dataDir: string;
  let key: string;
  let otherKey: string;
  let origin: string;
  const post = (body: Uint8Array<ArrayBuffer> | string, headers: Record<string, string> = {}) =>
    fetch(`${origin}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'message/rfc822', ...headers },
      body,
    });

  beforeAll(async () => {
    sink = await startSmtpSink();
    dataDir = makeTempDir();
    const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
    server = await startServer(env);
    origin = server.origin;
    runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], env);
    runCli(['tenant', 'create', 'other', '--name', 'Other', '--domain', 'other.example'], env);
    key = runCli(['apikey', 'create', '--tenant', 'acme'], env).json.key;
    otherKey = runCli(['apikey', 'create', '--tenant', 'other'], env).json.key;
  });
  afterAll(async () => {
    await server?.stop();
    await sink?.close();
  });

  const messageCount = async () => {
    const ctx = await createContext({ config: parseConfig(withTestDatabase({ SEALPOST_DATA_DIR: dataDir })) });
    const n = (await ctx.db.selectFrom('messages').select('id').execute()).length;
    const o = (await ctx.db.selectFrom('outbox').select('id').execute()).length;
    await ctx.db.destroy();
    return n + o;
  };

  it('answers 202 with the message id, and the SMTP server receives one wrapper per recipient', async () => {
    const raw = sampleEml();
    const res = await post(raw);
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body.recipients).toEqual(['bob@gmail.com', 'carol@yahoo.com']);
    await sink.waitFor(2);
    const wrappers = await assertWrappers(sink, raw, `http://acme.localhost:${server.port}`);
    const tenantId = JSON.parse(runCli(['tenant', 'list'], { SEALPOST_DATA_DIR: dataDir }).stdout).find(
      (t: { slug: string }) => t.slug === 'acme',
    ).id;
    for (const w of wrappers) {
      expect(Buffer.from((await openAs(dataDir, tenantId, w.envelope)).mime).equals(raw)).toBe(true);
    }
  });

  it("seals a message larger than the proxy's default body buffer whole (12 MB)", async () => {
    const big = Buffer.concat([
      sampleEml({ to: ['big@example.org'], attachment: false }).subarray(0, -2),
      Buffer.from(`\r\n${'x'.repeat(76)}`.repeat(170_000)),
      Buffer.from('\r\n'),
    ]);
    expect(big.length).toBeGreaterThan(12 * 1024 * 1024);
    const res = await post(new Uint8Array(big));
    expect(res.status).toBe(202);
    const { messageId } = await res.json();
    const ctx = await createContext({ config: parseConfig(withTestDatabase({ SEALPOST_DATA_DIR: dataDir })) });
    const row = await ctx.db
      .selectFrom('messages')
      .select(['tenant_id', 'size_bytes'])
      .where('id', '=', messageId)
      .executeTakeFirstOrThrow();
    const envelope = await readStoredEnvelope(ctx.db, messageId);
    await ctx.db.destroy();
    expect(row.size_bytes).toBe(big.length);
    expect(Buffer.from((await openAs(dataDir, row.tenant_id, envelope)).mime).equals(big)).toBe(true);
  });

  it('honours Idempotency-Key: a retry returns the same message and sends nothing more', async () => {
    const raw = sampleEml({ to: ['dave@example.org'] });
    const first = await (await post(raw, { 'idempotency-key': 'order-42' })).json();
    const again = await post(raw, { 'idempotency-key': 'order-42' });
    expect(again.status).toBe(202);
    expect((await again.json()).messageId).toBe(first.messageId);
    const conflict = await post(sampleEml({ to: ['erin@example.org'] }), { 'idempotency-key': 'order-42' });
    expect(conflict.status).toBe(409);
  });

  it.each([
    ['no API key', 401, { authorization: '' }, sampleEml()],
    ['a wrong API key', 401, { authorization: 'Bearer sp_wrongwrongwrongwrongwrongwrongwrongwrongwro' }, sampleEml()],
    ['another content type', 415, { 'content-type': 'text/plain' }, sampleEml()],
    ['a message without From', 400, {}, Buffer.from('To: bob@gmail.com\r\nSubject: x\r\n\r\nbody\r\n')],
    ['an empty body', 400, {}, Buffer.alloc(0)],
    ['a sender outside the organisation', 403, {}, sampleEml({ from: 'mallory@evil.example' })],
    ['no valid recipient', 422, {}, sampleEml({ to: ['"two words"@gmail.com', 'bob@localhost', 'x@[127.0.0.1]'] })],
    [
      'one invalid recipient among valid ones (refused whole, not delivered to the rest)',
      422,
      {},
      sampleEml({ to: ['carol@yahoo.com', 'bob@localhost'] }),
    ],
  ])('refuses %s with %i and writes nothing', async (_name, status, headers, body) => {
    const before = await messageCount();
    const res = await post(new Uint8Array(body as Buffer), headers as Record<string, string>);
    expect(res.status).toBe(status);
    const json = await res.json();
    expect(json.error.code).toBeTypeOf('string');
    expect(json.error.message.length).toBeGreaterThan(5);
    expect(await messageCount()).toBe(before);
  });

  it('refuses a To list that a lenient parser reads as a group with 422 naming the field, and queues nothing', async () => {
    const before = await messageCount();
    const mails = sink.mails.length;
    const res = await post(new Uint8Array(sampleEml({ to: ['alice@bank.example, Bcc: mallory@evil.example'] })));
    expect(res.status).toBe(422);
    const json = await res.json();
    expect(json.error).toMatchObject({ code: 'INVALID_RECIPIENTS', field: 'To' });
    expect(json.error.message).toContain('The To header is refused');
    expect(await messageCount()).toBe(before);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // (Mail of earlier tests may still be arriving: what counts is that none went to these two.)
    expect(sink.mails.slice(mails).filter((m) => m.rcptTo.some((r) => ['alice@bank.example', 'mallory@evil.example'].includes(r)))).toEqual(
      [],
    );
  });

  it("refuses a key used on another tenant's host with 403", async () => {
    // fetch may not set Host; node:http sends exactly what a client on that host name would.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/api/v1/messages',
          method: 'POST',
          headers: { host: `acme.localhost:${server.port}`, authorization: `Bearer ${otherKey}`, 'content-type': 'message/rfc822' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(sampleEml({ from: 'x@other.example' }));
    });
    expect(status).toBe(403);
  });

  it('refuses a message over the 25 MB limit with 413, before reading it all', async () => {
    const before = await messageCount();
    const big = Buffer.concat([sampleEml(), Buffer.alloc(25 * 1024 * 1024 + 1, 0x41)]);
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(await messageCount()).toBe(before);
  });
});

describe('the web server', () => {
  let server: TServer;
  beforeAll(async () => {
    server = await startServer({ SEALPOST_DATA_DIR: makeTempDir(), SEALPOST_DEMO_TENANT: 'on' });
  });
  afterAll(() => server?.stop());

  it('sends security headers on every response', async () => {
    for (const p of ['/', '/api/health', '/nope']) {
      const res = await fetch(`${server.origin}${p}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('never serves the internal tenant tree directly', async () => {
    for (const p of ['/t', '/t/demo', '/t/demo/anything']) {
      expect((await fetch(`${server.origin}${p}`)).status).toBe(404);
    }
  });

  it("serves a tenant's portal on its host, by exact match, and a plain 404 to any other host", async () => {
    const home = await requestAs(server.port, `demo.localhost:${server.port}`, '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('Secure messages from Demo Organisation');
    expect(home.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    for (const host of ['nope.localhost', 'demo.localhost.evil.example', 'x.demo.localhost', 'demo-localhost', 'evil.example']) {
      const res = await requestAs(server.port, `${host}:${server.port}`, '/');
      expect(res.status, host).toBe(404);
      expect(res.body).not.toContain('Demo Organisation');
    }
    // The internal tree is unreachable directly, from any host, and so is the middleware-bypass header.
    expect((await requestAs(server.port, `demo.localhost:${server.port}`, '/t/demo.localhost')).status).toBe(404);
    expect(
      (
        await requestAs(server.port, `demo.localhost:${server.port}`, '/', {
          headers: { 'x-middleware-subrequest': 'proxy:proxy:proxy:proxy:proxy' },
        })
      ).status,
    ).toBe(404);
    // The API and health answer on tenant hosts too.
    expect((await requestAs(server.port, `demo.localhost:${server.port}`, '/api/health')).status).toBe(200);
    // The base host is the app itself, not a tenant.
    expect((await requestAs(server.port, `localhost:${server.port}`, '/')).body).toContain('This server delivers encrypted email');
  });

  it('creates the demo tenant on its first start', () => {
    expect(server.output()).toContain('created the demo tenant');
    expect(server.output()).toContain('demo.localhost');
  });
});
