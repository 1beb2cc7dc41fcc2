import { authenticate } from 'mailauth';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDkimRecords } from '@/lib/dkim/check-dkim-records';
import { createDkimKey } from '@/lib/dkim/create-dkim-key';
import { rotateDkimKeys } from '@/lib/dkim/rotate-dkim-keys';
import { DKIM_RETIRED_KEEP_MS } from '@/lib/dkim/dkim-keys';
import { clearDkimSignerCache } from '@/lib/dkim/sign-composed-mail';
import { enqueueMail, GIVE_UP_AFTER_MS, newOutboxId } from '@/lib/mail/outbox';
import { createMailTransport } from '@/lib/mail/transport';
import { sendMessage } from '@/lib/messages/send-message';
import { getTenantKey } from '@/lib/envelope/tenant-keys';
import { recordRateEvent } from '@/lib/rate-limit/rate-limits';
import { runHousekeeping } from '@/lib/server/housekeeping';
import type { TTenant } from '@/lib/tenants/tenants';
import { runCli } from './helpers/cli';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { tenantZone, zoneResolver } from './helpers/dns-records';
import { deliverRefused, drainOutbox, MAIL_KINDS, produceEveryKindOfMail } from './helpers/every-kind-of-mail';
import { startSmtpSink, type TReceivedMail, type TSmtpSink } from './helpers/smtp-sink';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  clearDkimSignerCache();
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(env: Record<string, string> = {}) {
  const sink = await startSmtpSink();
  cleanups.push(() => sink.close());
  const ctx = await createTestContext({ SMTP_URL: sink.url, ...env });
  cleanups.push(() => ctx.close());
  const tenant = await seedTenant(ctx);
  const transport = createMailTransport({ smtpUrl: ctx.config.SMTP_URL, dataDir: ctx.dataDir });
  cleanups.push(async () => transport.close());
  return { ctx, tenant, sink, transport };
}

const keysOf = (ctx: TTestContext, tenant: TTenant) =>
  ctx.db.selectFrom('dkim_keys').selectAll().where('tenant_id', '=', tenant.id).execute();

// What a receiving MTA concludes: DKIM, SPF (the sink's MAIL FROM, from 127.0.0.1) and DMARC.
async function authenticateAsReceiver(mail: TReceivedMail, resolver: ReturnType<typeof zoneResolver>) {
  return authenticate(mail.raw, { ip: '127.0.0.1', helo: 'mx.acme.example', mta: 'mx.gmail.com', sender: mail.mailFrom, resolver });
}

describe('DKIM keys', () => {
  it('`sealpost dkim create` prints the TXT record, seals the private key and `dkim list` shows it', async () => {
    const { ctx, tenant } = await setup();
    const created = runCli(['dkim', 'create', '--tenant', tenant.slug, '--selector', 'sp1', '--algorithm', 'ed25519'], ctx.cliEnv);
    expect(created.status, created.stderr).toBe(0);
    expect(created.json).toMatchObject({
      domain: 'acme.example',
      selector: 'sp1',
      algorithm: 'ed25519',
      state: 'signing',
      record: {
        name: 'sp1._domainkey.acme.example',
        type: 'TXT',
        value: expect.stringMatching(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/),
      },
    });
    const rsa = runCli(['dkim', 'create', '--tenant', tenant.slug], ctx.cliEnv);
    expect(rsa.status, rsa.stderr).toBe(0);
    expect(rsa.json.record.value).toMatch(/^v=DKIM1; k=rsa; p=MIIBIjAN[A-Za-z0-9+/=]{380,}$/);
    // An RSA-2048 record is longer than one DNS string: the zone line splits it.
    expect(rsa.json.zoneLine).toMatch(/^sp\d{6}-rsa-[0-9a-f]{4}\._domainkey\.acme\.example\. IN TXT \( "v=DKIM1; k=rsa; p=.+" ".+" \)$/);
    // A second signing key of the same algorithm is a rotation, not a create.
    const again = runCli(['dkim', 'create', '--tenant', tenant.slug, '--algorithm', 'ed25519'], ctx.cliEnv);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/dkim rotate/);
    // Alignment: only the tenant's mail domain or its subdomains.
    const foreign = runCli(['dkim', 'create', '--tenant', tenant.slug, '--domain', 'gmail.com'], ctx.cliEnv);
    expect(foreign.status).not.toBe(0);
    const list = runCli(['dkim', 'list', '--tenant', tenant.slug], ctx.cliEnv);
    expect(list.json.map((k: { selector: string }) => k.selector).sort()).toEqual(['sp1', rsa.json.selector].sort());
    for (const row of await keysOf(ctx, tenant)) {
      expect(row.private_key.toString('latin1')).not.toMatch(/PRIVATE KEY|MII/);
      expect(JSON.stringify(list.json)).not.toContain(row.private_key.toString('base64').slice(0, 20));
    }
  });

  it('`dkim check` says whether each published record matches, through the resolver it is given', async () => {
    const { ctx, tenant } = await setup();
    await createDkimKey({ ctx, tenant, selector: 'good', algorithm: 'ed25519' });
    await createDkimKey({ ctx, tenant, selector: 'other', algorithm: 'rsa-2048' });
    const keys = await keysOf(ctx, tenant);
    const zone = tenantZone({ domain: 'acme.example', keys: keys.filter((k) => k.selector === 'good') });
    expect((await checkDkimRecords({ ctx, tenant, resolver: zoneResolver(zone) })).map((c) => [c.selector, c.result]).sort()).toEqual([
      ['good', 'ok'],
      ['other', 'missing'],
    ]);
    // Another key under the selector (a stale record, a typo): mismatch.
    zone.set('other._domainkey.acme.example', [zone.get('good._domainkey.acme.example')![0]!.replace('k=ed25519', 'k=rsa')]);
    const failing = async () => {
      throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
    };
    expect((await checkDkimRecords({ ctx, tenant, resolver: zoneResolver(zone) })).find((c) => c.selector === 'other')?.result).toBe(
      'mismatch',
    );
    expect((await checkDkimRecords({ ctx, tenant, resolver: failing })).map((c) => c.result)).toEqual(['error', 'error']);
  });
});

describe('every mail Sealpost writes is signed', () => {
  it('mailauth verifies both signatures (RSA and Ed25519) and DMARC passes, for every kind of mail', async () => {
    const { ctx, tenant, sink, transport } = await setup();
    await createDkimKey({ ctx, tenant, selector: 'rsa1', algorithm: 'rsa-2048' });
    await createDkimKey({ ctx, tenant, selector: 'ed1', algorithm: 'ed25519' });
    const resolver = zoneResolver(tenantZone({ domain: 'acme.example', keys: await keysOf(ctx, tenant) }));
    const mails = await produceEveryKindOfMail({ ctx, tenant, sink, transport, language: 'en' });
    expect([...mails.keys()]).toEqual([...MAIL_KINDS]);
    for (const [kind, mail] of mails) {
      const result = await authenticateAsReceiver(mail, resolver);
      const dkim = result.dkim.results.map((r) => [r.signingDomain, r.selector, r.status.result]);
      expect(dkim, kind).toEqual([
        ['acme.example', 'rsa1', 'pass'],
        ['acme.example', 'ed1', 'pass'],
      ]);
      expect(result.spf ? result.spf.status.result : null, kind).toBe('pass');
      expect(result.dmarc ? result.dmarc.status.result : null, kind).toBe('pass');
      // relaxed/relaxed over the headers RFC 6376 recommends.
      const header = mail.raw.toString('utf8').split('\r\n\r\n')[0]!;
      expect(header, kind).toMatch(/DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=acme\.example;/);
      expect(header, kind).toMatch(/a=ed25519-sha256/);
      expect(
        / h=([^;]+);/
          .exec(header.replace(/\r\n\s+/g, ' '))?.[1]
          ?.toLowerCase()
          .split(/\s*:\s*/),
        kind,
      ).toEqual(expect.arrayContaining(['from', 'subject', 'date', 'to', 'message-id', 'content-type', 'mime-version']));
      // Well-formed: a Date, a Message-ID on the tenant's domain, the envelope sender on it too,
      // and a text part beside the HTML one.
      expect(mail.parsed.date, kind).toBeInstanceOf(Date);
      expect(mail.parsed.messageId, kind).toMatch(/@acme\.example>$/);
      expect(mail.mailFrom, kind).toMatch(/@acme\.example$/);
      expect(mail.raw.toString('utf8'), kind).toMatch(/Content-Type: multipart\/alternative/);
      expect(String(mail.parsed.text).length, kind).toBeGreaterThan(40);
    }
    expect(mails.get('passcode')!.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mails.get('bounce-notice')!.parsed.headers.get('auto-submitted')).toBe('auto-replied');
    // A reader's reply and forward are written as the tenant, answers going to the reader.
    for (const kind of ['reply', 'forward'] as const) {
      const mail = mails.get(kind)!;
      expect(mail.parsed.from?.value).toEqual([{ name: 'Bob Reader via Acme Bank', address: 'no-reply@acme.example' }]);
      expect(mail.parsed.replyTo?.value).toEqual([{ name: '', address: 'bob@gmail.com' }]);
      expect(mail.mailFrom).toBe('no-reply@acme.example');
      expect(mail.parsed.text).toContain('bob@gmail.com');
    }
    // The reader's copy of their own reply names nobody else to answer.
    expect(mails.get('copy')!.parsed.from?.value[0]?.address).toBe('no-reply@acme.example');
    expect(mails.get('copy')!.parsed.replyTo).toBeUndefined();
    // The logo has alt text; the passcode mail loads nothing remote.
    expect(String(mails.get('wrapper-logo')!.parsed.html)).toMatch(/<img src="https:\/\/acme\.example\/logo\.png" alt="Acme Bank"/);
    expect(String(mails.get('passcode')!.parsed.html)).not.toMatch(/<img|https?:\/\/[^"]*\.(png|gif|jpe?g)/);
  });

  it('a mail altered after signing fails verification', async () => {
    const { ctx, tenant, sink, transport } = await setup();
    await createDkimKey({ ctx, tenant, selector: 'ed1', algorithm: 'ed25519' });
    const resolver = zoneResolver(tenantZone({ domain: 'acme.example', keys: await keysOf(ctx, tenant) }));
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }) });
    await drainOutbox(ctx, transport);
    const raw = sink.mails[0]!.raw.toString('utf8');
    expect((await dkimVerify(Buffer.from(raw), { resolver })).results[0]?.status.result).toBe('pass');
    const body = raw.replace('Read the message', 'Read this message');
    expect(body).not.toBe(raw);
    const bodyResult = (await dkimVerify(Buffer.from(body), { resolver })).results[0]?.status;
    expect(bodyResult?.result).not.toBe('pass');
    expect(bodyResult?.comment).toMatch(/body hash did not verify/);
    const subject = raw.replace(/^Subject: .*$/m, 'Subject: Urgent: confirm your password');
    expect((await dkimVerify(Buffer.from(subject), { resolver })).results[0]?.status.result).toBe('fail');
    // Oversigned: From, Subject and Date are each named once more in h= than the mail has them,
    // so a second one added above the signed one (what a mail client shows) breaks the signature.
    const h = /\bh=([^;]+);/
      .exec(raw.replace(/\r\n[ \t]+/g, ' '))![1]!
      .toLowerCase()
      .split(':')
      .map((n) => n.trim());
    for (const name of ['from', 'subject', 'date'])
      expect(
        h.filter((n) => n === name),
        name,
      ).toHaveLength(2);
    for (const [name, value] of [
      ['From', 'Security Team <security@acme.example>'],
      ['Subject', 'Urgent: confirm your password'],
      ['Date', 'Mon, 1 Jan 2024 00:00:00 +0000'],
    ] as const) {
      const added = raw.replace(/^DKIM-Signature:/m, `${name}: ${value}\r\nDKIM-Signature:`);
      expect((await dkimVerify(Buffer.from(added), { resolver })).results[0]?.status.result, name).toBe('fail');
    }
  });

  it('after a rotation new mail uses the new selector and mail signed before still verifies for the week the old record stays', async () => {
    const { ctx, tenant, sink, transport } = await setup();
    const t0 = Date.now();
    await createDkimKey({ ctx, tenant, selector: 'jan', algorithm: 'rsa-2048', now: t0 - 1000 });
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }) });
    await drainOutbox(ctx, transport);
    const [rotated] = await rotateDkimKeys({ ctx, tenant, selector: 'feb', now: t0 });
    expect(rotated).toMatchObject({ selector: 'feb', state: 'signing' });
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['carol@yahoo.com'] }) });
    await drainOutbox(ctx, transport);
    const [before, after] = sink.mails;
    // Both records published during the overlap: both mails verify, each under its own selector.
    const zone = tenantZone({ domain: 'acme.example', keys: await keysOf(ctx, tenant) });
    const verify = async (m: TReceivedMail) =>
      (await dkimVerify(m.raw, { resolver: zoneResolver(zone) })).results.map((r) => [r.selector, r.status.result]);
    expect(await verify(before!)).toEqual([['jan', 'pass']]);
    expect(await verify(after!)).toEqual([['feb', 'pass']]);
    const listed = runCli(['dkim', 'list', '--tenant', tenant.slug], ctx.cliEnv).json;
    expect(listed.find((k: { selector: string }) => k.selector === 'jan')).toMatchObject({
      state: 'retired',
      removeAfter: new Date(t0 + DKIM_RETIRED_KEEP_MS).toISOString(),
    });
    // Housekeeping keeps the old key through the week and removes it after.
    expect((await runHousekeeping({ ctx, now: t0 + DKIM_RETIRED_KEEP_MS - 1 })).dkimKeys).toBe(0);
    expect((await runHousekeeping({ ctx, now: t0 + DKIM_RETIRED_KEEP_MS })).dkimKeys).toBe(1);
    expect((await keysOf(ctx, tenant)).map((k) => k.selector)).toEqual(['feb']);
  });

  it('relayed pass-through mail is not signed again, and a tenant without a key sends unsigned', async () => {
    const { ctx, tenant, sink, transport } = await setup();
    const other = await seedTenant(ctx);
    await createDkimKey({ ctx, tenant, selector: 'ed1', algorithm: 'ed25519' });
    const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
    const id = newOutboxId();
    await enqueueMail(ctx.db, {
      tenantKey,
      mail: {
        id,
        tenantId: tenant.id,
        messageId: null,
        kind: 'passthrough',
        mailFrom: 'alice@acme.example',
        rcptTo: 'bob@gmail.com',
        smtpMessageId: '<orig-1@acme.example>',
        raw: sampleEml({ to: ['bob@gmail.com'] }),
      },
    });
    await sendMessage({ ctx, tenant: other, raw: sampleEml({ to: ['carol@yahoo.com'], from: `Zed <zed@${other.mail_domain}>` }) });
    await drainOutbox(ctx, transport);
    expect(sink.mails).toHaveLength(2);
    const relayed = sink.mails.find((m) => m.rcptTo[0] === 'bob@gmail.com')!;
    expect(relayed.raw.equals(sampleEml({ to: ['bob@gmail.com'] }))).toBe(true);
    expect(relayed.mailFrom).toBe('alice@acme.example');
    expect(sink.mails.find((m) => m.rcptTo[0] === 'carol@yahoo.com')!.raw.toString()).not.toMatch(/DKIM-Signature/i);
  });

  it('SEALPOST_BOUNCE_DOMAIN is the envelope sender of mail Sealpost writes', async () => {
    const { ctx, tenant, sink, transport } = await setup({
      SEALPOST_BOUNCE_DOMAIN: 'bounces.sealpost.example',
      SEALPOST_SYSTEM_LOCAL_PART: 'mailer',
    });
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }) });
    await drainOutbox(ctx, transport);
    expect(sink.mails[0]!.mailFrom).toBe('mailer@bounces.sealpost.example');
    // The From stays the author's: DMARC aligns through the DKIM signature.
    expect(sink.mails[0]!.parsed.from?.value[0]?.address).toBe('alice@acme.example');
  });
});

describe('bounce notices', () => {
  const notices = (sink: TSmtpSink) => sink.mails.filter((m) => /could not be delivered/.test(m.parsed.subject ?? ''));

  it('a 5xx gives the sender exactly one notice per message, with the server reason; 4xx gives none and is retried', async () => {
    const { ctx, tenant, sink, transport } = await setup();
    const t0 = Date.now();
    const sent = await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com', 'carol@yahoo.com'] }), now: t0 });
    expect(await deliverRefused(ctx, transport, sink, 451, t0)).toMatchObject({ retried: 2 });
    expect(notices(sink)).toHaveLength(0);
    expect((await ctx.db.selectFrom('outbox').select('status').execute()).map((r) => r.status)).toEqual(['queued', 'queued']);
    // Both recipients refused for good: one notice for the message, not one per recipient.
    expect(await deliverRefused(ctx, transport, sink, 550, t0 + 10 * 60_000)).toMatchObject({ bounced: 2 });
    await drainOutbox(ctx, transport, t0 + 10 * 60_000);
    const [notice, ...more] = notices(sink);
    expect(more).toHaveLength(0);
    expect(notice!.rcptTo).toEqual(['alice@acme.example']);
    expect(notice!.parsed.subject).toMatch(/^Your encrypted message to (bob@gmail\.com|carol@yahoo\.com) could not be delivered$/);
    expect(notice!.parsed.text).toContain('550 mailbox unavailable');
    expect(notice!.parsed.from?.value[0]?.address).toBe('no-reply@acme.example');
    const message = await ctx.db
      .selectFrom('messages')
      .select('bounce_notified_at')
      .where('id', '=', sent.messageId)
      .executeTakeFirstOrThrow();
    expect(message.bounce_notified_at).toEqual(expect.any(Number));
    const audit = await ctx.db.selectFrom('audit_events').select(['type', 'actor']).where('type', '=', 'bounce_notified').execute();
    expect(audit).toEqual([{ type: 'bounce_notified', actor: 'system' }]);
  });

  it('a wrapper given up after five days of temporary failures tells its sender too', async () => {
    const { ctx, tenant, sink, transport } = await setup();
    const t0 = Date.now();
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['slow@example.com'] }), now: t0 });
    expect(await deliverRefused(ctx, transport, sink, 451, t0 + GIVE_UP_AFTER_MS)).toMatchObject({ failed: 1 });
    await drainOutbox(ctx, transport, t0 + GIVE_UP_AFTER_MS);
    const notice = notices(sink);
    expect(notice.map((m) => [m.rcptTo[0], m.parsed.subject])).toEqual([
      ['alice@acme.example', 'Your encrypted message to slow@example.com could not be delivered'],
    ]);
    expect(notice[0]!.parsed.text).toContain('451 try again later');
  });

  it('in the tenant language; none for a passcode mail; none past the per-sender limit', async () => {
    const { ctx, tenant, sink, transport } = await setup();
    const { setBranding } = await import('@/lib/templates/set-branding');
    const { requestPasscode } = await import('@/lib/auth/passcodes/request-passcode');
    await setBranding({ db: ctx.db, tenantId: tenant.id, input: { language: 'zh-Hant' } });
    const sent = await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['bob@gmail.com'] }) });
    await drainOutbox(ctx, transport);
    await requestPasscode({ ctx, tenant, messageId: sent.messageId, address: 'bob@gmail.com', ip: '192.0.2.1' });
    expect(await deliverRefused(ctx, transport, sink, 550)).toMatchObject({ bounced: 1 });
    await drainOutbox(ctx, transport);
    expect(sink.mails.filter((m) => m.rcptTo[0] === 'alice@acme.example')).toHaveLength(0);
    expect((await ctx.db.selectFrom('outbox').select('status').where('kind', '=', 'passcode').executeTakeFirstOrThrow()).status).toBe(
      'bounced',
    );

    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['gone@example.com'] }) });
    await deliverRefused(ctx, transport, sink, 550);
    await drainOutbox(ctx, transport);
    const zh = sink.mails.filter((m) => m.rcptTo[0] === 'alice@acme.example');
    expect(zh.map((m) => m.parsed.subject)).toEqual(['您寄給 gone@example.com 的加密郵件無法送達']);

    // The sender's hourly allowance used up: the bounce is recorded, the notice is not sent.
    for (let i = 0; i < 10; i += 1)
      await recordRateEvent(ctx.db, { name: 'bounceNoticesPerSender', key: `${tenant.id}:alice@acme.example`, now: Date.now() });
    await sendMessage({ ctx, tenant, raw: sampleEml({ to: ['gone2@example.com'] }) });
    expect(await deliverRefused(ctx, transport, sink, 550)).toMatchObject({ bounced: 1 });
    await drainOutbox(ctx, transport);
    expect(sink.mails.filter((m) => m.rcptTo[0] === 'alice@acme.example')).toHaveLength(1);
    expect(await ctx.db.selectFrom('audit_events').select('type').where('type', '=', 'bounce_notice_limited').execute()).toHaveLength(1);
  });
});
