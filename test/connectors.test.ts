import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addConnector } from '@/lib/connectors/add-connector';
import { processOutboxBatch } from '@/lib/mail/outbox-worker';
import { createMailTransport } from '@/lib/mail/transport';
import { sendMessage } from '@/lib/messages/send-message';
import { sendReply } from '@/lib/messages/send-reply';
import { toMessageView } from '@/lib/messages/to-message-view';
import type { TTenant } from '@/lib/tenants/tenants';
import { runCli } from './helpers/cli';
import { createTestContext, makeTempDir, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';
import { createTestCa, startTlsSink, type TLeaf, type TTestCa, type TTlsSink } from './helpers/test-ca';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

// One test CA (trusted through SEALPOST_CONNECTOR_CA_FILE) and one the connector never trusts.
let ca: TTestCa;
let unknownCa: TTestCa;
let leaves: Record<'good' | 'wrongName' | 'expired' | 'unknownCa' | 'internal', TLeaf>;
beforeAll(() => {
  const dir = makeTempDir('sealpost-ca-');
  ca = createTestCa(path.join(dir, 'trusted'));
  unknownCa = createTestCa(path.join(dir, 'unknown'), 'Unknown CA');
  leaves = {
    good: ca.leaf('mx.partner.test'),
    wrongName: ca.leaf('wrong.partner.test'),
    expired: ca.leaf('mx.partner.test', { days: -1 }),
    unknownCa: unknownCa.leaf('mx.partner.test'),
    internal: ca.leaf('mail.acme.example'),
  };
});

type TSetup = { ctx: TTestContext; tenant: TTenant; relay: TSmtpSink };

// SMTP_URL is a plain sink: whatever has no connector goes there.
async function setup(env: Record<string, string> = {}): Promise<TSetup> {
  const relay = await startSmtpSink();
  cleanups.push(() => relay.close());
  const ctx = await createTestContext({ SMTP_URL: relay.url, SEALPOST_CONNECTOR_CA_FILE: ca.caFile, ...env });
  cleanups.push(() => ctx.close());
  const tenant = await seedTenant(ctx);
  return { ctx, tenant, relay };
}

async function tlsSink(o: Parameters<typeof startTlsSink>[0]): Promise<TTlsSink> {
  const s = await startTlsSink(o);
  cleanups.push(() => s.close());
  return s;
}

async function deliverAll(ctx: TTestContext, now = Date.now()) {
  const transport = createMailTransport({ smtpUrl: ctx.config.SMTP_URL, dataDir: ctx.dataDir });
  try {
    return await processOutboxBatch({ ctx, transport, now });
  } finally {
    transport.close();
  }
}

const outboxRows = (ctx: TTestContext) => ctx.db.selectFrom('outbox').selectAll().orderBy('rcpt_to').execute();
const auditOf = async (ctx: TTestContext, type: string) =>
  (await ctx.db.selectFrom('audit_events').selectAll().where('type', '=', type).execute()).map((e) => ({
    ...e,
    data: JSON.parse(e.data ?? '{}') as Record<string, unknown>,
  }));

describe('connector configuration', () => {
  it('is added, listed and removed with `sealpost connector`, and hostile input is refused with the field named', async () => {
    const { ctx, tenant } = await setup();
    const env = ctx.cliEnv;
    const added = runCli(
      [
        'connector',
        'add',
        '--tenant',
        tenant.slug,
        '--domain',
        'Partner.Test',
        '--tls',
        'verify',
        '--host',
        'MX.partner.test:2525',
        '--tls-name',
        'mx.partner.test',
      ],
      env,
    );
    expect(added.stderr).toBe('');
    expect(added.json).toMatchObject({
      tenant: tenant.slug,
      domain: 'partner.test',
      host: 'mx.partner.test:2525',
      tls: 'verify',
      tlsName: 'mx.partner.test',
      internal: false,
    });
    await addConnector({ db: ctx.db, tenant, input: { domain: '*', tls: 'required', host: '[2001:DB8::1]' } });
    const refused = runCli(
      ['connector', 'add', '--tenant', tenant.slug, '--domain', 'other.test', '--tls', 'verify', '--host', 'evil.test/x'],
      env,
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/host: must be a host name or IP address/);
    expect(runCli(['connector', 'list', '--tenant', tenant.slug], env).json).toEqual([
      { domain: '*', host: '[2001:db8::1]:25', tls: 'required', tlsName: null, internal: false },
      { domain: 'partner.test', host: 'mx.partner.test:2525', tls: 'verify', tlsName: 'mx.partner.test', internal: false },
    ]);
    expect(runCli(['connector', 'remove', '--tenant', tenant.slug, '--domain', 'partner.test'], env).json).toEqual({
      tenant: tenant.slug,
      domain: 'partner.test',
      removed: true,
    });
    expect((await ctx.db.selectFrom('connectors').select('domain').execute()).map((r) => r.domain)).toEqual(['*']);
    // Each `sealpost` run starts a process; on a loaded machine four of them take a while.
  }, 180_000);

  it.each([
    [{ domain: 'partner.test', tls: 'verify', host: 'mx.partner.test:99999' }, /host: must be/],
    [{ domain: 'partner.test', tls: 'verify', host: 'mx.partner.test\r\nRCPT TO:<x@y>' }, /host: must be/],
    [{ domain: 'partner.test', tls: 'verify', host: 'user:pw@mx.partner.test' }, /host: must be/],
    [{ domain: 'partner.test', tls: 'verify', host: '999.1.1.1' }, /host: must be/],
    [{ domain: 'partner.test', tls: 'verify', host: 'smtp://mx.partner.test' }, /host: must be/],
    [{ domain: 'partner.test', tls: 'verify', tlsName: '*.partner.test' }, /tlsName: must be a DNS name/],
    [
      { domain: 'partner.test', tls: 'required', tlsName: 'mx.partner.test' },
      /tlsName: a certificate name is checked only with --tls verify/,
    ],
    [{ domain: 'partner.test', tls: 'none' }, /tls: must be opportunistic, required or verify/],
    [{ domain: 'partner test', tls: 'verify' }, /domain: must be a mail domain/],
    [{ domain: 'localhost', tls: 'verify' }, /domain: must be a mail domain/],
    [{ domain: 'acme.example', tls: 'required', internal: true }, /internal: only a connector with --tls verify/],
    [{ domain: 'partner.test', tls: 'verify', internal: true }, /internal: only a connector for acme.example/],
  ])('refuses %j', async (input, message) => {
    const { ctx, tenant } = await setup();
    await expect(addConnector({ db: ctx.db, tenant, input })).rejects.toThrow(message);
    expect(await ctx.db.selectFrom('connectors').selectAll().execute()).toEqual([]);
  });
});

describe('delivery over connectors', () => {
  it('verify: delivers over TLS to the connector host when the certificate chains to the CA and names mx.partner.test; other domains still go to SMTP_URL', async () => {
    const { ctx, tenant, relay } = await setup();
    const partner = await tlsSink({ leaf: leaves.good });
    await addConnector({
      db: ctx.db,
      tenant,
      input: { domain: 'partner.test', tls: 'verify', host: `127.0.0.1:${partner.port}`, tlsName: 'mx.partner.test' },
    });
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@partner.test', 'carol@other.test'] }) });
    expect(await deliverAll(ctx)).toMatchObject({ claimed: 2, sent: 2 });
    expect(partner.mails).toHaveLength(1);
    expect(partner.mails[0]).toMatchObject({ rcptTo: ['bob@partner.test'], secure: true });
    expect(relay.mails.map((m) => m.rcptTo)).toEqual([['carol@other.test']]);
    expect((await outboxRows(ctx)).map((r) => r.status)).toEqual(['sent', 'sent']);
  });

  it("a tenant's default connector ('*') takes every domain without one of its own", async () => {
    const { ctx, tenant, relay } = await setup();
    const fallback = await tlsSink({ leaf: leaves.good });
    await addConnector({ db: ctx.db, tenant, input: { domain: '*', tls: 'required', host: `127.0.0.1:${fallback.port}` } });
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['carol@other.test'] }) });
    expect(await deliverAll(ctx)).toMatchObject({ sent: 1 });
    expect(fallback.mails.map((m) => [m.rcptTo, m.secure])).toEqual([[['carol@other.test'], true]]);
    expect(relay.mails).toEqual([]);
  });

  it.each([
    [
      'verify',
      'a certificate for another name',
      'wrongName',
      /^TLS verify not met at 127\.0\.0\.1:\d+: .*does not match certificate's altnames/,
    ],
    ['verify', 'an expired certificate', 'expired', /^TLS verify not met at 127\.0\.0\.1:\d+: certificate has expired/],
    [
      'verify',
      'a certificate from an unknown CA',
      'unknownCa',
      /^TLS verify not met at 127\.0\.0\.1:\d+: unable to verify the first certificate/,
    ],
    ['required', 'a server that offers no STARTTLS', null, /^TLS required not met at 127\.0\.0\.1:\d+: .*STARTTLS/],
    ['verify', 'a server that offers no STARTTLS', null, /^TLS verify not met at 127\.0\.0\.1:\d+: .*STARTTLS/],
    [
      'required',
      'a server limited to TLS 1.1',
      'old',
      /^TLS required not met at 127\.0\.0\.1:\d+: .*(protocol version|unsupported protocol)/i,
    ],
  ] as const)('%s defers the mail, sends nothing and audits why, against %s', async (tls, _what, leafName, reason) => {
    const { ctx, tenant, relay } = await setup();
    const partner = await tlsSink(
      leafName === null ? {} : leafName === 'old' ? { leaf: leaves.good, maxVersion: 'TLSv1.1' } : { leaf: leaves[leafName] },
    );
    await addConnector({
      db: ctx.db,
      tenant,
      input: {
        domain: 'partner.test',
        tls,
        host: `127.0.0.1:${partner.port}`,
        ...(tls === 'verify' ? { tlsName: 'mx.partner.test' } : {}),
      },
    });
    const t0 = Date.now();
    const sent = await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@partner.test'] }), now: t0 });
    expect(await deliverAll(ctx, t0)).toMatchObject({ claimed: 1, sent: 0, retried: 1, bounced: 0 });
    // Retried later, the same: deferred again, never sent in clear, never bounced.
    expect(await deliverAll(ctx, t0 + 10 * 60_000)).toMatchObject({ claimed: 1, sent: 0, retried: 1, bounced: 0 });
    expect(partner.mails).toEqual([]);
    expect(relay.mails).toEqual([]);
    const [row] = await outboxRows(ctx);
    expect(row).toMatchObject({ status: 'queued', attempts: 2 });
    expect(row!.payload).not.toBeNull();
    expect(row!.next_attempt_at).toBeGreaterThan(t0 + 10 * 60_000);
    expect(row!.last_error).toMatch(reason);
    const audits = await auditOf(ctx, 'delivery_deferred');
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({
      message_id: sent.messageId,
      actor: 'system',
      data: { policy: tls, domain: 'partner.test', host: `127.0.0.1:${partner.port}`, status: 'queued', kind: 'wrapper' },
    });
    expect(String(audits[0]!.data.reason)).toMatch(reason);
    // The reason, never the mail: no subject, no body.
    expect(JSON.stringify(audits)).not.toMatch(/statement|12345678/i);
    expect(await auditOf(ctx, 'bounced')).toEqual([]);
  });

  it('the TLS 1.1 sink really speaks TLS 1.1: a client allowed TLS 1.1 gets through, so the refusal above is about the version', async () => {
    const nodemailer = (await import('nodemailer')).default;
    const old = await tlsSink({ leaf: leaves.good, maxVersion: 'TLSv1.1' });
    const lenient = nodemailer.createTransport({
      host: '127.0.0.1',
      port: old.port,
      requireTLS: true,
      tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false },
    });
    await lenient.sendMail({ envelope: { from: 'a@acme.example', to: ['bob@partner.test'] }, raw: 'Subject: probe\r\n\r\nprobe\r\n' });
    lenient.close();
    expect(old.mails.map((m) => m.secure)).toEqual([true]);
  });

  it('opportunistic: sends in clear to a server without STARTTLS, and over TLS to one that offers it', async () => {
    const { ctx, tenant, relay } = await setup();
    const plain = await tlsSink({});
    const offering = await tlsSink({ leaf: leaves.unknownCa });
    await addConnector({ db: ctx.db, tenant, input: { domain: 'partner.test', tls: 'opportunistic', host: `127.0.0.1:${plain.port}` } });
    await addConnector({ db: ctx.db, tenant, input: { domain: 'other.test', tls: 'opportunistic', host: `127.0.0.1:${offering.port}` } });
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@partner.test', 'carol@other.test'] }) });
    expect(await deliverAll(ctx)).toMatchObject({ sent: 2 });
    expect(plain.mails.map((m) => [m.rcptTo, m.secure])).toEqual([[['bob@partner.test'], false]]);
    expect(offering.mails.map((m) => [m.rcptTo, m.secure])).toEqual([[['carol@other.test'], true]]);
    expect(relay.mails).toEqual([]);
    expect(await auditOf(ctx, 'delivery_deferred')).toEqual([]);
  });

  it('SMTP_URL keeps its own TLS but never below TLS 1.2: a relay limited to TLS 1.1 defers the mail', async () => {
    const old = await tlsSink({ leaf: leaves.good, maxVersion: 'TLSv1.1' });
    const ctx = await createTestContext({ SMTP_URL: `smtp://127.0.0.1:${old.port}?tls.rejectUnauthorized=false` });
    cleanups.push(() => ctx.close());
    const tenant = await seedTenant(ctx);
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@partner.test'] }) });
    expect(await deliverAll(ctx)).toMatchObject({ retried: 1, sent: 0, bounced: 0 });
    expect(old.mails).toEqual([]);
    const [row] = await outboxRows(ctx);
    expect(row!.last_error).toMatch(/^TLS not met at SMTP_URL: .*(protocol version|unsupported protocol)/i);
    expect((await auditOf(ctx, 'delivery_deferred'))[0]).toMatchObject({ data: { policy: 'smtp_url' } });
  });
});

describe('the internal connector', () => {
  const REPLY_BODY = 'Internal reply body 4711';

  // Alice (the tenant's own user) writes to bob@gmail.com; Bob answers from the portal.
  async function portalReply({ ctx, tenant }: TSetup) {
    const raw = sampleEml({ to: ['bob@gmail.com'], attachment: false });
    const original = await sendMessage({ ctx, tenant, raw });
    const view = await toMessageView({ mime: raw, attachmentUrl: (i) => String(i) });
    await sendReply({
      ctx,
      tenant,
      original: { messageId: original.messageId, view },
      from: 'bob@gmail.com',
      isReplyAll: false,
      body: REPLY_BODY,
      attachments: [],
    });
  }

  it("delivers a portal reply to the tenant's own user decrypted, over verified TLS, and keeps it sealed in the outbox until then", async () => {
    const setupResult = await setup();
    const { ctx, tenant, relay } = setupResult;
    const internal = await tlsSink({ leaf: leaves.internal });
    const added = runCli(
      [
        'connector',
        'add',
        '--tenant',
        tenant.slug,
        '--domain',
        'acme.example',
        '--tls',
        'verify',
        '--host',
        `127.0.0.1:${internal.port}`,
        '--tls-name',
        'mail.acme.example',
        '--internal',
      ],
      { ...ctx.cliEnv, SEALPOST_CONNECTOR_CA_FILE: ca.caFile },
    );
    expect(added.json).toMatchObject({ domain: 'acme.example', tls: 'verify', internal: true });
    await expect(addConnector({ db: ctx.db, tenant, input: { domain: 'acme.example', tls: 'verify' } })).rejects.toThrow(
      /already has a connector for acme.example/,
    );
    await portalReply(setupResult);
    const queued = (await outboxRows(ctx)).find((r) => r.kind === 'reply')!;
    expect(queued.rcpt_to).toBe('alice@acme.example');
    expect(queued.payload!.includes(Buffer.from(REPLY_BODY))).toBe(false);
    expect(await deliverAll(ctx)).toMatchObject({ sent: 2 });
    expect(internal.mails).toHaveLength(1);
    const mail = internal.mails[0]!;
    expect(mail).toMatchObject({ rcptTo: ['alice@acme.example'], mailFrom: 'bob@gmail.com', secure: true });
    expect(mail.parsed.text).toContain(REPLY_BODY);
    expect(mail.parsed.subject).toBe('Re: Your statement');
    expect(mail.parsed.attachments).toEqual([]);
    // The original's wrapper to the outside still went through SMTP_URL as a wrapper.
    expect(relay.mails.map((m) => m.rcptTo)).toEqual([['bob@gmail.com']]);
    expect(relay.mails[0]!.raw.includes(Buffer.from('12345678'))).toBe(false);
    expect((await outboxRows(ctx)).find((r) => r.kind === 'reply')).toMatchObject({ status: 'sent', payload: null });
  }, 120_000);

  it.each([
    ['a required (not verify) connector', { tls: 'required' as const }, false],
    ['an internal connector edited in the database to required', { tls: 'verify' as const, internal: true }, true],
  ])('without verify the reply stays a wrapper: %s', async (_what, input, tamper) => {
    const setupResult = await setup();
    const { ctx, tenant } = setupResult;
    const internal = await tlsSink({ leaf: leaves.internal });
    await addConnector({
      db: ctx.db,
      tenant,
      input: {
        domain: 'acme.example',
        host: `127.0.0.1:${internal.port}`,
        ...input,
        ...(input.tls === 'verify' ? { tlsName: 'mail.acme.example' } : {}),
      },
    });
    if (tamper) await ctx.db.updateTable('connectors').set({ tls: 'required', tls_name: null }).execute();
    await portalReply(setupResult);
    expect(await deliverAll(ctx)).toMatchObject({ sent: 2 });
    expect(internal.mails).toHaveLength(1);
    const mail = internal.mails[0]!;
    expect(mail).toMatchObject({ rcptTo: ['alice@acme.example'], secure: true });
    expect(mail.raw.includes(Buffer.from(REPLY_BODY))).toBe(false);
    expect(JSON.stringify(mail.parsed.text ?? '') + (mail.parsed.html || '')).not.toContain(REPLY_BODY);
    // A wrapper: the reply is reachable only through the encrypted attachment or the portal link.
    expect(mail.parsed.attachments.some((a) => /\.html$/.test(a.filename ?? '')) || /https?:\/\//.test(mail.parsed.text ?? '')).toBe(true);
  });
});

afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
