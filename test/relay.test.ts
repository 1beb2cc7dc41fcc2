import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutboxWorker } from '@/lib/mail/outbox-worker';
import { sendMessage } from '@/lib/messages/send-message';
import { addRelayAllow } from '@/lib/relay/relay-allow';
import { createRelayCredential } from '@/lib/relay/relay-credentials';
import { eventKey } from '@/lib/rate-limit/rate-limits';
import { addRule } from '@/lib/rules/add-rule';
import { removeRule } from '@/lib/rules/remove-rule';
import { startRelay, type TRelay } from '@/lib/relay/start-relay';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, seedTenant, TEST_DIALECT, type TTestContext } from './helpers/context';
import { openWrapper } from './helpers/open-wrapper';
import { RawSmtp } from './helpers/smtp-client';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

const message = ({
  id,
  from = 'alice@acme.example',
  to = 'bob@partner.example',
  subject = 'Quarterly figures',
  body = 'Hello Bob.',
}: {
  id: string;
  from?: string;
  to?: string;
  subject?: string;
  body?: string;
}) =>
  Buffer.from(
    [
      `From: Alice <${from}>`,
      `To: ${to}`,
      `Subject: ${subject}`,
      `Message-ID: <${id}@acme.example>`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      'DKIM-Signature: v=1; a=rsa-sha256; d=acme.example; s=s1; bh=abc=; b=def=',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
    ].join('\r\n'),
  );

let ctx: TTestContext;
let sink: TSmtpSink;
let tenant: TTenant;
let credential: { username: string; password: string };
let relay: TRelay;
let remoteRelay: TRelay;
let worker: { stop(): Promise<void> } | undefined;

const counts = async () => ({
  messages: Number(
    (
      await ctx.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  ),
  outbox: Number(
    (
      await ctx.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  ),
});

// SQLite: another process holds the write lock, so commits wait out busy_timeout and fail.
// PostgreSQL: the database takes no connections and the relay's are ended, as in a failover.
async function makeDatabaseUnavailable(): Promise<{ end(): Promise<void> }> {
  if (TEST_DIALECT === 'sqlite') {
    const blocker = new Database(path.join(ctx.dataDir, 'sealpost.db'));
    blocker.exec('BEGIN EXCLUSIVE');
    return {
      async end() {
        blocker.exec('ROLLBACK');
        blocker.close();
      },
    };
  }
  const name = new URL(ctx.cliEnv.DATABASE_URL!).pathname.slice(1);
  const admin = new pg.Client({ connectionString: ctx.cliEnv.DATABASE_URL!.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  return {
    async end() {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    },
  };
}

// Connects, says EHLO and authenticates (loopback: no STARTTLS needed), ready for MAIL FROM.
async function session(port = relay.port, { auth = true } = {}) {
  const { client, greeting } = await RawSmtp.connect(port);
  expect(greeting.code).toBe(220);
  expect((await client.command('EHLO mail.acme.example')).code).toBe(250);
  if (auth) expect((await client.authPlain(credential.username, credential.password)).code).toBe(235);
  return client;
}

async function sendData(client: RawSmtp, data: Buffer) {
  expect((await client.command('DATA')).code).toBe(354);
  await client.write(data);
  // The terminator's CRLF is the message's last line end when it has one.
  await client.write(data.subarray(-2).toString() === '\r\n' ? '.\r\n' : '\r\n.\r\n');
  return client.reply();
}

beforeAll(async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext({ SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '50' });
  tenant = await seedTenant(ctx);
  credential = await createRelayCredential({ db: ctx.db, tenant });
  relay = await startRelay({ ctx, port: 0, host: '127.0.0.1', maxConnectionsPerIp: 60 });
  remoteRelay = await startRelay({ ctx, port: 0, host: '127.0.0.1', isLoopbackTrusted: false });
});

afterAll(async () => {
  await worker?.stop();
  await relay?.stop();
  await remoteRelay?.stop();
  await sink?.close();
  await ctx?.close();
});

describe('who may relay', () => {
  it('refuses AUTH before STARTTLS on a listener that does not trust loopback, and accepts it after', async () => {
    const { client } = await RawSmtp.connect(remoteRelay.port);
    const before = await client.command('EHLO mail.acme.example');
    // Not offered before STARTTLS, and refused if tried anyway: a password never crosses in clear.
    expect(before.text).toMatch(/STARTTLS/);
    expect(before.text).not.toMatch(/AUTH/);
    expect((await client.authPlain(credential.username, credential.password)).code).toBeGreaterThanOrEqual(500);
    expect((await client.startTls()).code).toBe(220);
    const after = await client.command('EHLO mail.acme.example');
    expect(after.code).toBe(250);
    expect(after.text).toMatch(/AUTH PLAIN LOGIN/);
    expect((await client.authPlain(credential.username, credential.password)).code).toBe(235);
    client.close();
  });

  it('accepts AUTH without STARTTLS from loopback on a listener that trusts it', async () => {
    const { client } = await RawSmtp.connect(relay.port);
    expect((await client.command('EHLO mail.acme.example')).text).toMatch(/AUTH PLAIN LOGIN/);
    expect((await client.authPlain(credential.username, credential.password)).code).toBe(235);
    client.close();
  });

  it('refuses mail from a client neither authenticated nor on the allow-list (530)', async () => {
    const client = await session(relay.port, { auth: false });
    expect((await client.command('MAIL FROM:<alice@acme.example>')).code).toBe(530);
    client.close();
  });

  it('answers a wrong password 535, then rate-limits the address even for the right one', async () => {
    const { client } = await RawSmtp.connect(remoteRelay.port);
    await client.command('EHLO mail.acme.example');
    await client.startTls();
    await client.command('EHLO mail.acme.example');
    for (let i = 0; i < 5; i += 1) expect((await client.authPlain(credential.username, 'A'.repeat(43))).code).toBe(535);
    expect((await client.authPlain(credential.username, credential.password)).code).toBe(454);
    client.close();
    await ctx.db.deleteFrom('rate_events').execute();
  });

  it('refuses an envelope sender outside the tenant domain (553), accepts a subdomain', async () => {
    const client = await session();
    expect((await client.command('MAIL FROM:<mallory@evil.example>')).code).toBe(553);
    expect((await client.command('MAIL FROM:<alice@acme.example.evil.example>')).code).toBe(553);
    expect((await client.command('MAIL FROM:<alice@eu.acme.example>')).code).toBe(250);
    client.close();
  });

  it('lets an allow-listed address relay without AUTH, for its tenant domain only', async () => {
    await addRelayAllow({ db: ctx.db, tenant, cidr: '127.0.0.1/32' });
    const client = await session(relay.port, { auth: false });
    expect((await client.command('MAIL FROM:<other@else.example>')).code).toBe(553);
    expect((await client.command('MAIL FROM:<alice@acme.example>')).code).toBe(250);
    client.close();
    await ctx.db.deleteFrom('relay_allow').execute();
  });

  it('refuses an invalid recipient address with the strict normaliser (553)', async () => {
    const client = await session();
    await client.command('MAIL FROM:<alice@acme.example>');
    expect((await client.command('RCPT TO:<"quoted"@partner.example>')).code).toBe(553);
    expect((await client.command('RCPT TO:<bob@[127.0.0.1]>')).code).toBe(553);
    expect((await client.command('RCPT TO:<bob@partner.example>')).code).toBe(250);
    client.close();
  });
});

describe('limits and timeouts', () => {
  const opened: RawSmtp[] = [];
  afterAll(() => {
    for (const c of opened) c.close();
  });

  it('a fourth connection from one address is answered 421 while three are open; one closed makes room', async () => {
    const limited = await startRelay({ ctx, port: 0, host: '127.0.0.1', maxConnectionsPerIp: 3 });
    try {
      for (let i = 0; i < 3; i += 1) {
        const { client, greeting } = await RawSmtp.connect(limited.port);
        opened.push(client);
        expect(greeting.code).toBe(220);
      }
      const { client: fourth, greeting } = await RawSmtp.connect(limited.port);
      expect(greeting.code).toBe(421);
      expect(greeting.text).toMatch(/Too many connections/);
      fourth.close();
      opened.pop()!.close();
      await new Promise((r) => setTimeout(r, 200));
      const { client: again, greeting: welcome } = await RawSmtp.connect(limited.port);
      expect(welcome.code).toBe(220);
      again.close();
    } finally {
      for (const c of opened.splice(0)) c.close();
      await limited.stop();
    }
  });

  it('an idle connection is closed with 421 after the idle timeout', async () => {
    const quick = await startRelay({ ctx, port: 0, host: '127.0.0.1', idleTimeoutMs: 600 });
    try {
      const { client } = await RawSmtp.connect(quick.port);
      expect((await client.command('EHLO mail.acme.example')).code).toBe(250);
      const started = Date.now();
      const reply = await client.reply(5_000);
      expect(reply.code).toBe(421);
      expect(Date.now() - started).toBeLessThan(4_000);
      client.close();
    } finally {
      await quick.stop();
    }
  });

  it('DATA trickled past the DATA timeout is cut off with 421 and nothing is stored', async () => {
    const quick = await startRelay({ ctx, port: 0, host: '127.0.0.1', dataTimeoutMs: 800 });
    try {
      const before = await counts();
      const client = await session(quick.port);
      await client.command('MAIL FROM:<alice@acme.example>');
      await client.command('RCPT TO:<bob@partner.example>');
      expect((await client.command('DATA')).code).toBe(354);
      await client.write('From: alice@acme.example\r\nTo: bob@partner.example\r\nSubject: slow\r\n\r\n');
      // One line now and then, never the end of the data.
      const trickle = setInterval(() => void client.write('x\r\n'), 200);
      try {
        const reply = await client.reply(5_000);
        expect(reply.code).toBe(421);
        expect(reply.text).toMatch(/DATA took too long/);
      } finally {
        clearInterval(trickle);
        client.close();
      }
      expect(await counts()).toEqual(before);
    } finally {
      await quick.stop();
    }
  });

  it("a tenant over its hourly relay limit is answered 452 with the limit's text and nothing is stored", async () => {
    // 50,000 messages this hour, counted per minute (the limit's buckets).
    const key = eventKey({ name: 'relayMessagesPerTenant', key: tenant.id });
    const minute = Date.now() - (Date.now() % 60_000);
    await ctx.db
      .insertInto('rate_counters')
      .values(Array.from({ length: 50 }, (_, i) => ({ key, bucket: minute - i * 60_000, count: 1000 })))
      .execute();
    try {
      const before = await counts();
      const client = await session();
      await client.command('MAIL FROM:<alice@acme.example>');
      await client.command('RCPT TO:<bob@partner.example>');
      const reply = await sendData(client, message({ id: 'over-limit' }));
      expect(reply.code).toBe(452);
      expect(reply.text).toMatch(/4\.7\.0 The organisation has relayed too many messages this hour/);
      client.close();
      expect(await counts()).toEqual(before);
    } finally {
      await ctx.db.deleteFrom('rate_counters').where('key', '=', key).execute();
    }
  });
});

describe('messages', () => {
  it('refuses a message whose address headers the strict parser refuses, with its text', async () => {
    const client = await session();
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<bob@partner.example>');
    const raw = Buffer.from('From: Alice <alice@acme.example>\r\nTo: a@x.example\r\nTo: b@y.example\r\nSubject: two To\r\n\r\nbody\r\n');
    const reply = await sendData(client, raw);
    expect(reply.code).toBe(550);
    expect(reply.text).toMatch(/To header appears 2 times/);
    client.close();
  });

  it.each([
    ['LF.LF', 'line one\n.\nMAIL FROM:<ceo@acme.example>\r\n'],
    ['CR.CR', 'line one\r.\rMAIL FROM:<ceo@acme.example>\r\n'],
    ['LF.CRLF', 'line one\n.\r\nMAIL FROM:<ceo@acme.example>\r\n'],
    ['CRLF.LF', 'line one\r\n.\nMAIL FROM:<ceo@acme.example>\r\n'],
  ])('refuses an SMTP smuggling payload (%s) whole and keeps serving', async (_name, payload) => {
    const before = await counts();
    const client = await session();
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<bob@partner.example>');
    const reply = await sendData(client, Buffer.concat([message({ id: 'smuggle' }), Buffer.from(payload)]));
    expect(reply.code).toBe(550);
    expect(reply.text).toMatch(/smuggling/);
    // The "second message" never ran as commands: the session is at its start again.
    expect((await client.command('RSET')).code).toBe(250);
    expect((await client.command('NOOP')).code).toBe(250);
    client.close();
    expect(await counts()).toEqual(before);
  });

  it('answers 451 and stores nothing when the database is unavailable during DATA', async () => {
    const before = await counts();
    const client = await session();
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<bob@partner.example>');
    const outage = await makeDatabaseUnavailable();
    try {
      const reply = await sendData(client, message({ id: 'db-down' }));
      expect(reply.code).toBe(451);
    } finally {
      await outage.end();
    }
    expect(await counts()).toEqual(before);
    // And once the database is back, the retry is accepted.
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<bob@partner.example>');
    expect((await sendData(client, message({ id: 'db-back' }))).code).toBe(250);
    client.close();
    expect((await counts()).outbox).toBe(before.outbox + 1);
  });

  it('passes a message through byte-identical but for one Received header, to the RCPT TO only', async () => {
    worker ??= startOutboxWorker({ ctx });
    const start = sink.mails.length;
    const client = await session();
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<bob@partner.example>');
    await client.command('RCPT TO:<hidden@other.example>');
    const raw = message({ id: 'pass-1', to: 'bob@partner.example, carol@partner.example' });
    expect((await sendData(client, raw)).code).toBe(250);
    client.close();
    const mails = (await sink.waitFor(start + 3, 20_000).catch(() => sink.mails)).slice(start);
    // db-back from the test before, plus the two RCPT TO of this one; carol is only in the header.
    const ours = mails.filter((m) => m.raw.includes('<pass-1@acme.example>'));
    expect(ours.map((m) => m.rcptTo[0]).sort()).toEqual(['bob@partner.example', 'hidden@other.example']);
    for (const m of ours) {
      expect(m.mailFrom).toBe('alice@acme.example');
      const received = /^Received: [^\r]*\r\n(?:\t[^\r]*\r\n)*/.exec(m.raw.toString('latin1'))![0];
      expect(received).toMatch(/by localhost \(Sealpost relay\) with ESMTPA id /);
      expect(received).not.toMatch(/bob|hidden/);
      expect(m.raw.subarray(received.length).equals(raw)).toBe(true);
    }
    const audit = await ctx.db.selectFrom('audit_events').select(['data']).where('type', '=', 'rule_matched').execute();
    expect(
      audit
        .map((a) => JSON.parse(a.data!))
        .filter((d) => d.recipient === 'hidden@other.example')
        .at(-1),
    ).toEqual({ recipient: 'hidden@other.example', action: 'pass', rule: null, template: null });
  });

  it('seals for exactly the envelope recipients: a Bcc-only recipient gets a wrapper, header-only addresses do not', async () => {
    const raw = message({ id: 'seal-1', to: 'bob@partner.example, carol@partner.example' });
    const sent = await sendMessage({
      ctx,
      tenant,
      raw,
      envelopeRecipients: ['bob@partner.example', 'dave@elsewhere.example'],
      deliver: false,
    });
    const rows = await ctx.db
      .selectFrom('recipients')
      .select(['address', 'kind'])
      .where('message_id', '=', sent.messageId)
      .orderBy('address')
      .execute();
    expect(rows).toEqual([
      { address: 'bob@partner.example', kind: 'to' },
      { address: 'dave@elsewhere.example', kind: 'bcc' },
    ]);
  });

  it('every mailparser fixture is accepted or refused with 5xx in bounded time, and the relay keeps serving', async () => {
    const dir = path.resolve(import.meta.dirname, 'corpora/mime/mailparser-fixtures');
    const files = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile());
    expect(files.length).toBeGreaterThan(5);
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: relay.port,
      secure: false,
      ignoreTLS: true,
      auth: { user: credential.username, pass: credential.password },
    });
    const outcomes: Record<string, string> = {};
    for (const file of files) {
      const started = Date.now();
      try {
        await transport.sendMail({
          envelope: { from: 'alice@acme.example', to: ['bob@partner.example'] },
          raw: fs.readFileSync(path.join(dir, file)),
        });
        outcomes[file] = 'accepted';
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode ?? 0;
        expect(code, `${file}: ${(error as Error).message}`).toBeGreaterThanOrEqual(500);
        outcomes[file] = String(code);
      }
      expect(Date.now() - started, file).toBeLessThan(15_000);
    }
    await transport.sendMail({
      envelope: { from: 'alice@acme.example', to: ['bob@partner.example'] },
      raw: message({ id: 'after-corpus' }),
    });
    transport.close();
    expect(Object.keys(outcomes)).toHaveLength(files.length);
  });

  it('50 parallel connections × 20 messages: all 1,000 accepted and each delivered exactly once', async () => {
    // Four workers share the queue, as instances of a scaled-out deployment do (leases keep each
    // mail with one of them).
    const extra = [startOutboxWorker({ ctx }), startOutboxWorker({ ctx }), startOutboxWorker({ ctx })];
    worker ??= startOutboxWorker({ ctx });
    const start = sink.mails.length;
    const clients = Array.from({ length: 50 }, (_, c) => async () => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: relay.port,
        secure: false,
        ignoreTLS: true,
        pool: true,
        maxConnections: 1,
        maxMessages: 100,
        auth: { user: credential.username, pass: credential.password },
      });
      for (let m = 0; m < 20; m += 1) {
        const info = await transport.sendMail({
          envelope: { from: 'alice@acme.example', to: ['bob@partner.example'] },
          raw: message({ id: `bulk-${c}-${m}` }),
        });
        expect(info.response).toMatch(/^250 /);
      }
      transport.close();
    });
    await Promise.all(clients.map((run) => run()));
    await sink.waitFor(start + 1000, 180_000);
    await new Promise((r) => setTimeout(r, 1000));
    const ids = sink.mails
      .slice(start)
      .map((m) => m.parsed.messageId)
      .filter((id) => id?.startsWith('<bulk-'));
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    await Promise.all(extra.map((w) => w.stop()));
  }, 240_000);
});

describe('rule actions through SMTP', () => {
  const tracked = (id: string, from: number) =>
    sink.mails.slice(from).filter((m) => m.raw.includes(`<${id}@acme.example>`) || m.parsed.subject?.includes(id));
  const ownReceived = (m: { raw: Buffer }) => /^Received: [^\r]*\r\n(?:\t[^\r]*\r\n)*/.exec(m.raw.toString('latin1'))![0];

  beforeAll(async () => {
    await ctx.db.deleteFrom('rate_events').execute();
    // "[secure]" to someone outside the organisation is sealed, the keyword taken out of the sealed
    // subject; a header asking for refusal is refused with the rule's text.
    await addRule({
      db: ctx.db,
      tenantId: tenant.id,
      input: {
        name: 'secure outside',
        stop: true,
        conditions: [{ type: 'subjectContains', words: ['[secure]'] }, { type: 'recipientOutside' }],
        action: { kind: 'encrypt', removeKeyword: true },
      },
    });
    await addRule({
      db: ctx.db,
      tenantId: tenant.id,
      input: {
        name: 'no exports',
        conditions: [{ type: 'header', name: 'X-Classification', value: 'export-controlled', match: 'equals' }],
        action: { kind: 'reject', text: 'Export-controlled mail may not leave Acme (policy EX-7)' },
      },
    });
  });

  afterAll(async () => {
    for (const name of ['secure outside', 'no exports']) await removeRule({ db: ctx.db, tenantId: tenant.id, name });
  });

  it('"[secure]" to an outside address: the sink gets a wrapper whose envelope opens to the original, keyword removed', async () => {
    worker ??= startOutboxWorker({ ctx });
    const start = sink.mails.length;
    const before = await counts();
    const client = await session();
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<bob@partner.example>');
    const raw = message({ id: 'rule-secure', subject: '[secure] Quarterly figures', body: 'The secret figures.' });
    expect((await sendData(client, raw)).code).toBe(250);
    client.close();
    expect((await counts()).messages).toBe(before.messages + 1);
    await sink.waitFor(start + 1, 20_000);
    const [mail] = sink.mails.slice(start);
    expect(mail!.rcptTo).toEqual(['bob@partner.example']);
    expect(mail!.raw.includes('The secret figures')).toBe(false);
    expect(mail!.parsed.subject).toBe('Quarterly figures');
    const opened = await openWrapper({ ctx, tenant, mail: mail! });
    expect(opened.claims.address).toBe('bob@partner.example');
    // The sealed original is the sent message byte for byte, but for the keyword in its Subject.
    expect(
      opened.mime.equals(
        Buffer.from(raw.toString('latin1').replace('Subject: [secure] Quarterly figures', 'Subject: Quarterly figures'), 'latin1'),
      ),
    ).toBe(true);
    const audit = await ctx.db
      .selectFrom('audit_events')
      .select(['data', 'message_id'])
      .where('type', '=', 'rule_matched')
      .where('message_id', '=', opened.claims.messageId)
      .execute();
    expect(audit.map((a) => JSON.parse(a.data!))).toEqual([
      { recipient: 'bob@partner.example', rule: 'secure outside', action: 'encrypt', template: 'default' },
    ]);
  });

  it('one internal colleague and one outside customer: split, the colleague copy byte-identical but for Received', async () => {
    worker ??= startOutboxWorker({ ctx });
    const start = sink.mails.length;
    const client = await session();
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<colleague@acme.example>');
    await client.command('RCPT TO:<customer@partner.example>');
    const raw = message({
      id: 'rule-split',
      to: 'colleague@acme.example, customer@partner.example',
      subject: '[secure] Your contract',
      body: 'Contract terms.',
    });
    expect((await sendData(client, raw)).code).toBe(250);
    client.close();
    await sink.waitFor(start + 2, 20_000);
    const mails = sink.mails.slice(start);
    expect(mails.map((m) => m.rcptTo[0]).sort()).toEqual(['colleague@acme.example', 'customer@partner.example']);
    const colleague = mails.find((m) => m.rcptTo[0] === 'colleague@acme.example')!;
    expect(colleague.raw.subarray(ownReceived(colleague).length).equals(raw)).toBe(true);
    const customer = mails.find((m) => m.rcptTo[0] === 'customer@partner.example')!;
    expect(customer.raw.includes('Contract terms')).toBe(false);
    const opened = await openWrapper({ ctx, tenant, mail: customer });
    expect(opened.claims.address).toBe('customer@partner.example');
    expect(opened.mime.toString('latin1')).toContain('Subject: Your contract\r\n');
    expect(opened.mime.toString('latin1')).toContain('Contract terms.');
    // The sealed message holds only the customer: the colleague is no recipient of it.
    const rows = await ctx.db.selectFrom('recipients').select('address').where('message_id', '=', opened.claims.messageId).execute();
    expect(rows.map((r) => r.address)).toEqual(['customer@partner.example']);
    expect(tracked('rule-split', start)).toHaveLength(1);
  });

  it('a reject rule answers 550 5.7.1 with the rule text and stores nothing', async () => {
    const before = await counts();
    const auditBefore = Number(
      (
        await ctx.db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    const client = await session();
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<colleague@acme.example>');
    await client.command('RCPT TO:<buyer@partner.example>');
    const raw = Buffer.from(
      message({ id: 'rule-reject' }).toString('latin1').replace('MIME-Version:', 'X-Classification: export-controlled\r\nMIME-Version:'),
      'latin1',
    );
    const reply = await sendData(client, raw);
    expect(reply.code).toBe(550);
    expect(reply.text).toMatch(/^550 5\.7\.1 Export-controlled mail may not leave Acme \(policy EX-7\)/);
    // The session goes on.
    expect((await client.command('RSET')).code).toBe(250);
    client.close();
    expect(await counts()).toEqual(before);
    expect(
      Number(
        (
          await ctx.db
            .selectFrom('audit_events')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).toBe(auditBefore);
  });
});
