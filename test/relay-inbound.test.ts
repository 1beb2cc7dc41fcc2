import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processOutboxBatch, startOutboxWorker } from '@/lib/mail/outbox-worker';
import { createMailTransport } from '@/lib/mail/transport';
import { eventKey } from '@/lib/rate-limit/rate-limits';
import { setInboundRoute } from '@/lib/relay/inbound-route';
import { createRelayCredential } from '@/lib/relay/relay-credentials';
import { startRelay, type TRelay } from '@/lib/relay/start-relay';
import { addRule } from '@/lib/rules/add-rule';
import { addSmimeCertificate } from '@/lib/smime/add-smime-certificate';
import { importSigningCertificate } from '@/lib/smime/import-signing-certificate';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTenant } from '@/lib/tenants/tenants';
import { runCli } from './helpers/cli';
import { createTestContext, makeTempDir, seedTenant, type TTestContext } from './helpers/context';
import { createSmimeCa, openssl, opensslTime, type TSmimeCa, type TSmimeLeaf } from './helpers/smime-ca';
import { RawSmtp } from './helpers/smtp-client';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';
import { createTestCa, startTlsSink, type TTestCa, type TTlsSink } from './helpers/test-ca';

// The outside world: partner.example's people sign (and encrypt) their mail with Debian's
// openssl; acme.example points its inbound mail at the relay, which sends it on to its own mail
// host (a real SMTP server with STARTTLS, its certificate checked).
let root: string;
let dir: string;
let smimeCa: TSmimeCa;
let tlsCa: TTestCa;
let tenantSigning: TSmimeLeaf;
let ctx: TTestContext;
let tenant: TTenant;
let relay: TRelay;
let mailHost: TTlsSink;
let internet: TSmtpSink;
let worker: { stop(): Promise<void> };

const AUTHSERV = 'localhost';

const header = (from: string, to: string, subject: string, extra = '') =>
  `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@partner.example>\r\n${extra}`;

// A mail signed by openssl cms -sign (detached, multipart/signed), with the sender's header fields.
function signedMail(o: { leaf: TSmimeLeaf; from: string; to?: string; subject: string; text: string; extra?: string }): Buffer {
  const file = `${o.leaf.name}-${Math.random().toString(36).slice(2)}.txt`;
  fs.writeFileSync(path.join(dir, file), `Content-Type: text/plain; charset=utf-8\r\n\r\n${o.text}\r\n`);
  const signed = openssl(
    ['cms', '-sign', '-in', file, '-signer', o.leaf.cert, '-inkey', o.leaf.key, '-md', 'sha256', '-binary', '-crlfeol'],
    dir,
  );
  return Buffer.concat([Buffer.from(header(o.from, o.to ?? 'alice@acme.example', o.subject, o.extra)), signed]);
}

const sendFromOutside = async (raw: Buffer, from: string, to: string[]) => {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true });
  try {
    return await transport.sendMail({ envelope: { from, to }, raw });
  } finally {
    transport.close();
  }
};

const learnt = (address: string) =>
  ctx.db.selectFrom('smime_certificates').selectAll().where('tenant_id', '=', tenant.id).where('address', '=', address).execute();

const authResults = (raw: Buffer) => raw.toString('latin1').match(/^Authentication-Results:[^\r]*(\r\n\t[^\r]*)*/gm) ?? [];

beforeAll(async () => {
  root = makeTempDir('sealpost-inbound-');
  smimeCa = createSmimeCa(path.join(root, 'smime'));
  dir = smimeCa.dir;
  tlsCa = createTestCa(path.join(root, 'tls'));
  internet = await startSmtpSink();
  mailHost = await startTlsSink({ leaf: tlsCa.leaf('mail.acme.example') });
  ctx = await createTestContext({ SMTP_URL: internet.url, SEALPOST_CONNECTOR_CA_FILE: tlsCa.caFile, SEALPOST_OUTBOX_POLL_MS: '50' });
  tenant = await seedTenant(ctx);
  await addSmimeCertificate({ db: ctx.db, tenantId: tenant.id, kind: 'ca', file: Buffer.from(smimeCa.caPem), actor: 'test' });
  tenantSigning = smimeCa.issue({ name: 'acme-signing', email: 'alice@acme.example' });
  await importSigningCertificate({ ctx, tenant, p12: fs.readFileSync(tenantSigning.p12('pw')), password: 'pw', actor: 'test' });
  await setInboundRoute({
    db: ctx.db,
    tenant,
    input: { deliverTo: `127.0.0.1:${mailHost.port}`, tls: 'verify', tlsName: 'mail.acme.example' },
  });
  relay = await startRelay({ ctx, port: 0, host: '127.0.0.1' });
  worker = startOutboxWorker({ ctx });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await relay?.stop();
  await mailHost?.close();
  await internet?.close();
  await ctx?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('inbound mail from outside, for a tenant with an inbound route', () => {
  it('a signed mail from outside reaches the tenant host unchanged with smime=pass, its certificate is learned (audited), and encrypt-when-possible then sends S/MIME to that correspondent', async () => {
    const zoe = smimeCa.issue({ name: 'zoe', email: 'zoe@partner.example' });
    const forged = `Authentication-Results: ${AUTHSERV}; smime=pass body.smime-identifier=mallory@partner.example\r\n`;
    const foreign = 'Authentication-Results: mx.partner.example; spf=pass smtp.mailfrom=partner.example\r\n';
    const raw = signedMail({
      leaf: zoe,
      from: 'Zoe <zoe@partner.example>',
      subject: 'Offer',
      text: 'Our offer, signed.',
      extra: forged + foreign,
    });
    const before = mailHost.mails.length;
    await sendFromOutside(raw, 'zoe@partner.example', ['alice@acme.example']);
    const [mail] = (await mailHost.waitFor(before + 1)).slice(before);
    expect(mail).toMatchObject({ rcptTo: ['alice@acme.example'], mailFrom: 'zoe@partner.example', secure: true });
    // One verdict of ours (the forged one is gone), the partner's own field kept.
    const results = authResults(mail!.raw);
    expect(results.filter((r) => r.startsWith(`Authentication-Results: ${AUTHSERV};`))).toHaveLength(1);
    expect(results.join('\n')).toMatch(/smime=pass \(signature verified\)\r\n\tbody\.smime-identifier=zoe@partner\.example/);
    expect(results.join('\n')).not.toMatch(/mallory/);
    expect(results).toContain(foreign.trimEnd());
    // Unchanged otherwise: the signature still verifies with OpenSSL, over the same bytes.
    // (What nodemailer sent: OpenSSL's bare LFs in the signature part as CRLF.)
    const expected = Buffer.from(
      raw
        .toString('latin1')
        .replace(forged, '')
        .replace(/(?<!\r)\n/g, '\r\n'),
      'latin1',
    );
    expect(mail!.raw.subarray(mail!.raw.length - expected.length).equals(expected)).toBe(true);
    fs.writeFileSync(path.join(dir, 'inbound-zoe.eml'), mail!.raw);
    expect(openssl(['cms', '-verify', '-in', 'inbound-zoe.eml', '-CAfile', smimeCa.caFile], dir).toString()).toMatch(/Our offer, signed\./);

    expect(await learnt('zoe@partner.example')).toMatchObject([{ kind: 'recipient', source: 'inbound' }]);
    const audit = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', '=', 'smime_certificate_added')
      .where('actor', '=', 'relay')
      .execute();
    expect(audit.map((a) => JSON.parse(a.data!))).toContainEqual(
      expect.objectContaining({ address: 'zoe@partner.example', source: 'inbound' }),
    );

    // The learned certificate, end to end: alice's reply through the relay goes out S/MIME-encrypted to zoe.
    await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'smime', input: { smime: 'encrypt-when-possible' } });
    await addRule({
      db: ctx.db,
      tenantId: tenant.id,
      input: { name: 'smime outside', conditions: [{ type: 'recipientOutside' }], action: { kind: 'encrypt', template: 'smime' } },
    });
    const credential = await createRelayCredential({ db: ctx.db, tenant });
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: relay.port,
      secure: false,
      ignoreTLS: true,
      auth: { user: credential.username, pass: credential.password },
    });
    const reply = Buffer.from(
      `${header('Alice <alice@acme.example>', 'zoe@partner.example', 'Re: Offer')}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAccepted, for your eyes only.\r\n`,
    );
    await transport.sendMail({ envelope: { from: 'alice@acme.example', to: ['zoe@partner.example'] }, raw: reply });
    transport.close();
    const [out] = await internet.waitFor(1);
    expect(out!.rcptTo).toEqual(['zoe@partner.example']);
    expect(out!.parsed.headers.get('content-type')).toMatchObject({ value: 'application/pkcs7-mime' });
    expect(out!.raw.includes(Buffer.from('for your eyes only'))).toBe(false);
    fs.writeFileSync(path.join(dir, 'outbound-zoe.eml'), out!.raw);
    const inner = openssl(['cms', '-decrypt', '-in', 'outbound-zoe.eml', '-recip', zoe.cert, '-inkey', zoe.key, '-binary'], dir);
    expect(inner.toString()).toMatch(/multipart\/signed/);
    expect(inner.toString()).toMatch(/Accepted, for your eyes only\./);
  });

  it('an S/MIME reply encrypted to the tenant certificate is decrypted, its inner signature verified and learned, and delivered decrypted', async () => {
    const yann = smimeCa.issue({ name: 'yann', email: 'yann@partner.example', key: 'ec' });
    fs.writeFileSync(path.join(dir, 'yann.txt'), 'Content-Type: text/plain; charset=utf-8\r\n\r\nThe signed answer, sealed.\r\n');
    const signed = openssl(
      ['cms', '-sign', '-in', 'yann.txt', '-signer', yann.cert, '-inkey', yann.key, '-md', 'sha256', '-binary', '-crlfeol'],
      dir,
    );
    fs.writeFileSync(path.join(dir, 'yann-signed.eml'), signed);
    // openssl's default key transport, RSA PKCS#1 v1.5, as mail clients send it.
    const enc = openssl(['cms', '-encrypt', '-in', 'yann-signed.eml', '-aes256', '-binary', '-crlfeol', '-recip', tenantSigning.cert], dir);
    const raw = Buffer.concat([Buffer.from(header('yann@partner.example', 'alice@acme.example', 'Re: Figures')), enc]);
    expect(raw.toString()).toMatch(/smime-type=enveloped-data/);
    const before = mailHost.mails.length;
    await sendFromOutside(raw, 'yann@partner.example', ['alice@acme.example']);
    const [mail] = (await mailHost.waitFor(before + 1)).slice(before);
    expect(mail!.secure).toBe(true);
    expect(authResults(mail!.raw).join('\n')).toMatch(
      /smime=pass \(decrypted; signature verified\)\r\n\tbody\.smime-identifier=yann@partner\.example/,
    );
    expect(mail!.parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/signed' });
    expect(mail!.parsed.subject).toBe('Re: Figures');
    expect(mail!.parsed.text).toMatch(/The signed answer, sealed\./);
    // The inner signature is delivered as it was made: the user's client verifies it too.
    fs.writeFileSync(path.join(dir, 'inbound-yann.eml'), mail!.raw);
    expect(openssl(['cms', '-verify', '-in', 'inbound-yann.eml', '-CAfile', smimeCa.caFile], dir).toString()).toMatch(/sealed/);
    expect(await learnt('yann@partner.example')).toMatchObject([{ kind: 'recipient', source: 'inbound' }]);
  });

  it('a bad signature, a certificate for another address and an expired certificate: each delivered with its verdict, none learned', async () => {
    const wes = smimeCa.issue({ name: 'wes', email: 'wes@partner.example' });
    const good = signedMail({ leaf: wes, from: 'wes@partner.example', subject: 'Tampered', text: 'Pay 100 EUR.' });
    const tampered = Buffer.from(good.toString('latin1').replace('Pay 100 EUR.', 'Pay 900 EUR.'), 'latin1');
    const other = smimeCa.issue({ name: 'other', email: 'other@partner.example' });
    const wrongAddress = signedMail({ leaf: other, from: 'vic@partner.example', subject: 'Not mine', text: 'Signed by someone else.' });
    const day = 86400_000;
    const old = smimeCa.issue({
      name: 'old',
      email: 'uma@partner.example',
      startDate: opensslTime(new Date(Date.now() - 10 * day)),
      endDate: opensslTime(new Date(Date.now() - day)),
    });
    const expired = signedMail({ leaf: old, from: 'uma@partner.example', subject: 'Old', text: 'An expired certificate.' });
    const before = mailHost.mails.length;
    await sendFromOutside(tampered, 'wes@partner.example', ['alice@acme.example']);
    await sendFromOutside(wrongAddress, 'vic@partner.example', ['alice@acme.example']);
    await sendFromOutside(expired, 'uma@partner.example', ['alice@acme.example']);
    const mails = (await mailHost.waitFor(before + 3)).slice(before);
    const verdict = (subject: string) => authResults(mails.find((m) => m.parsed.subject === subject)!.raw).join('\n');
    expect(verdict('Tampered')).toMatch(/smime=fail \(The S\/MIME signature does not verify/);
    expect(verdict('Not mine')).toMatch(/smime=policy \(.*does not name vic@partner\.example|smime=policy \(.*vic@partner\.example/);
    expect(verdict('Old')).toMatch(/smime=policy \(.*expired on/);
    expect(mails.find((m) => m.parsed.subject === 'Tampered')!.parsed.text).toMatch(/Pay 900 EUR\./);
    for (const address of ['wes@partner.example', 'vic@partner.example', 'other@partner.example', 'uma@partner.example'])
      expect(await learnt(address)).toEqual([]);
  });

  it('malformed CMS is delivered with smime=permerror in bounded time; a malformed header is refused; a bounce (null sender) is taken', async () => {
    const garbage = Buffer.from(
      `${header('tom@partner.example', 'alice@acme.example', 'Garbage envelope')}MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(4096, 0x30).toString('base64')}\r\n`,
    );
    const sam = smimeCa.issue({ name: 'sam', email: 'sam@partner.example' });
    const good = signedMail({ leaf: sam, from: 'sam@partner.example', subject: 'Truncated', text: 'Cut short.' }).toString('latin1');
    // The signature part's base64 cut in half.
    const start = good.indexOf('filename="smime.p7s"\r\n\r\n') + 'filename="smime.p7s"\r\n\r\n'.length;
    const end = good.indexOf('------', start);
    const truncated = Buffer.from(`${good.slice(0, start + Math.floor((end - start) / 2))}\n\n${good.slice(end)}`, 'latin1');
    expect(truncated.length).toBeLessThan(good.length);
    const before = mailHost.mails.length;
    const started = Date.now();
    await sendFromOutside(garbage, 'tom@partner.example', ['alice@acme.example']);
    await sendFromOutside(truncated, 'sam@partner.example', ['alice@acme.example']);
    expect(Date.now() - started).toBeLessThan(10_000);
    const mails = (await mailHost.waitFor(before + 2)).slice(before);
    const verdict = (subject: string) => authResults(mails.find((m) => m.parsed.subject === subject)!.raw).join('\n');
    expect(verdict('Garbage envelope')).toMatch(/smime=permerror \(The S\/MIME object/);
    expect(verdict('Truncated')).toMatch(/smime=permerror \(The S\/MIME object/);
    expect(await learnt('sam@partner.example')).toEqual([]);

    const { client } = await RawSmtp.connect(relay.port);
    try {
      expect((await client.command('EHLO mx.partner.example')).code).toBe(250);
      expect((await client.command('MAIL FROM:<tom@partner.example>')).code).toBe(250);
      expect((await client.command('RCPT TO:<alice@acme.example>')).code).toBe(250);
      expect((await client.command('DATA')).code).toBe(354);
      const refused = await client.command('From: tom@partner.example\r\nthis line has no colon\r\n\r\nbody\r\n.');
      expect(refused.code).toBe(550);
      expect(refused.text).toMatch(/5\.6\.0 .*no colon/);
      // A delivery status notification from outside, MAIL FROM:<>, goes on to the user.
      expect((await client.command('MAIL FROM:<>')).code).toBe(250);
      expect((await client.command('RCPT TO:<alice@acme.example>')).code).toBe(250);
      expect((await client.command('DATA')).code).toBe(354);
      const accepted = await client.command(
        `${header('MAILER-DAEMON@partner.example', 'alice@acme.example', 'Undelivered')}\r\nGone.\r\n.`,
      );
      expect(accepted.code).toBe(250);
    } finally {
      await client.command('QUIT').catch(() => undefined);
    }
    const [bounce] = (await mailHost.waitFor(before + 3)).slice(before + 2);
    expect(bounce).toMatchObject({ mailFrom: '', rcptTo: ['alice@acme.example'] });
    expect(authResults(bounce!.raw).join('\n')).toMatch(/smime=none \(not signed\)/);
  });

  it('never an open relay: outside to outside refused, two organisations in one transaction refused, a sender claiming the tenant domain refused; nothing queued', async () => {
    const beta = await seedTenant(ctx, { mailDomain: 'beta.example' });
    await setInboundRoute({ db: ctx.db, tenant: beta, input: { deliverTo: `127.0.0.1:${mailHost.port}`, tls: 'opportunistic' } });
    const queued = async () =>
      Number(
        (
          await ctx.db
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('kind', '=', 'inbound')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await queued();
    const { client } = await RawSmtp.connect(relay.port);
    try {
      await client.command('EHLO mx.spammer.example');
      expect((await client.command('MAIL FROM:<spam@spammer.example>')).code).toBe(250);
      const outside = await client.command('RCPT TO:<victim@gmail.example>');
      expect(outside.code).toBe(550);
      expect(outside.text).toMatch(/5\.7\.1 Relaying denied/);
      expect((await client.command('RCPT TO:<alice@acme.example>')).code).toBe(250);
      const other = await client.command('RCPT TO:<bob@beta.example>');
      expect(other.code).toBe(452);
      expect(other.text).toMatch(/4\.5\.3 .*another organisation.*separate transaction/);
      expect((await client.command('RSET')).code).toBe(250);
      expect((await client.command('MAIL FROM:<ceo@acme.example>')).code).toBe(250);
      const spoofed = await client.command('RCPT TO:<alice@acme.example>');
      expect(spoofed.code).toBe(550);
      expect(spoofed.text).toMatch(/5\.7\.1 Mail from acme\.example must be sent through the relay's authentication/);
      // A subdomain of a tenant's domain is the tenant's too; a look-alike domain is not.
      expect((await client.command('RSET')).code).toBe(250);
      expect((await client.command('MAIL FROM:<spam@spammer.example>')).code).toBe(250);
      expect((await client.command('RCPT TO:<x@notacme.example>')).code).toBe(550);
      expect((await client.command('RCPT TO:<x@acme.example.evil.example>')).code).toBe(550);
    } finally {
      await client.command('QUIT').catch(() => undefined);
    }
    expect(await queued()).toBe(before);
  });

  it('the per-address limit (RATE_LIMITS.relayInboundPerIp) answers 450 at MAIL FROM', async () => {
    const now = Date.now();
    const keys = ['127.0.0.1', '::ffff:127.0.0.1'].map((key) => eventKey({ name: 'relayInboundPerIp', key }));
    await ctx.db
      .insertInto('rate_counters')
      .values(keys.map((key) => ({ key, bucket: now - (now % 60_000), count: 3_000 })))
      .onConflict((oc) => oc.columns(['key', 'bucket']).doUpdateSet({ count: 3_000 }))
      .execute();
    try {
      const { client } = await RawSmtp.connect(relay.port);
      await client.command('EHLO mx.partner.example');
      const limited = await client.command('MAIL FROM:<zoe@partner.example>');
      expect(limited.code).toBe(450);
      expect(limited.text).toMatch(/4\.7\.1 Too much mail from your address/);
      await client.command('QUIT').catch(() => undefined);
    } finally {
      await ctx.db.deleteFrom('rate_counters').where('key', 'in', keys).execute();
    }
  });

  it('`relay inbound set|show|remove` from the command line, with decrypt allowed only over --tls verify; the changes are audited', async () => {
    const env = ctx.cliEnv;
    const gamma = 'gamma';
    const created = runCli(['tenant', 'create', gamma, '--name', 'Gamma', '--domain', 'gamma.example'], env);
    expect(created.status).toBe(0);
    const refused = runCli(
      ['relay', 'inbound', 'set', '--tenant', gamma, '--deliver-to', 'mx.gamma.example', '--tls', 'required', '--decrypt', 'on'],
      env,
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/decrypt: S\/MIME mail is delivered decrypted only with --tls verify/);
    const set = runCli(
      [
        'relay',
        'inbound',
        'set',
        '--tenant',
        gamma,
        '--deliver-to',
        'mx.gamma.example:2525',
        '--tls',
        'verify',
        '--tls-name',
        'mx.gamma.example',
      ],
      env,
    );
    expect(set.json).toEqual({
      tenant: gamma,
      mailDomain: 'gamma.example',
      deliverTo: 'mx.gamma.example:2525',
      tls: 'verify',
      tlsName: 'mx.gamma.example',
      decrypt: true,
    });
    expect(runCli(['relay', 'inbound', 'show', '--tenant', gamma], env).json).toMatchObject({
      deliverTo: 'mx.gamma.example:2525',
      decrypt: true,
    });
    expect(runCli(['relay', 'inbound', 'remove', '--tenant', gamma], env).json).toEqual({ tenant: gamma, removed: true });
    const gammaId = (await ctx.db.selectFrom('tenants').select('id').where('slug', '=', gamma).executeTakeFirstOrThrow()).id;
    expect(await ctx.db.selectFrom('inbound_routes').selectAll().where('tenant_id', '=', gammaId).execute()).toEqual([]);
    const audit = await ctx.db
      .selectFrom('audit_events')
      .select(['type', 'actor'])
      .where('tenant_id', '=', gammaId)
      .where('type', 'like', 'inbound_route_%')
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { type: 'inbound_route_set', actor: 'cli' },
      { type: 'inbound_route_removed', actor: 'cli' },
    ]);
  });
});

describe('a tenant without an inbound route', () => {
  it('outside senders are refused as before: 530 with no route anywhere, 550 at RCPT for a tenant without one', async () => {
    const other = await createTestContext();
    const own = await seedTenant(other);
    const otherRelay = await startRelay({ ctx: other, port: 0, host: '127.0.0.1' });
    try {
      const { client } = await RawSmtp.connect(otherRelay.port);
      await client.command('EHLO mx.partner.example');
      const refused = await client.command('MAIL FROM:<zoe@partner.example>');
      expect(refused.code).toBe(530);
      expect(refused.text).toMatch(/5\.7\.0 Authentication required/);
      await client.command('QUIT').catch(() => undefined);
      // Another tenant's route opens the door only for that tenant's domain.
      const second = await seedTenant(other, { mailDomain: 'routed.example' });
      await setInboundRoute({ db: other.db, tenant: second, input: { deliverTo: '127.0.0.1:25', tls: 'opportunistic' } });
      const again = await RawSmtp.connect(otherRelay.port);
      await again.client.command('EHLO mx.partner.example');
      expect((await again.client.command('MAIL FROM:<zoe@partner.example>')).code).toBe(250);
      const toOwn = await again.client.command(`RCPT TO:<alice@${own.mail_domain}>`);
      expect(toOwn.code).toBe(550);
      expect(toOwn.text).toMatch(/Relaying denied/);
      await again.client.command('QUIT').catch(() => undefined);
    } finally {
      await otherRelay.stop();
      await other.close();
    }
  });
});

describe('delivery to the tenant host', () => {
  it('goes through the outbox: a 4xx is retried and then delivered, a 5xx bounces (audited, no notice back to the outside sender)', async () => {
    const other = await createTestContext();
    const host = await startSmtpSink();
    const own = await seedTenant(other, { mailDomain: 'delta.example' });
    await setInboundRoute({ db: other.db, tenant: own, input: { deliverTo: `127.0.0.1:${host.port}`, tls: 'opportunistic' } });
    const otherRelay = await startRelay({ ctx: other, port: 0, host: '127.0.0.1' });
    const transport = createMailTransport({ smtpUrl: other.config.SMTP_URL, dataDir: other.dataDir });
    const send = (subject: string) =>
      nodemailer.createTransport({ host: '127.0.0.1', port: otherRelay.port, secure: false, ignoreTLS: true }).sendMail({
        envelope: { from: 'zoe@partner.example', to: ['dan@delta.example'] },
        raw: Buffer.from(`${header('zoe@partner.example', 'dan@delta.example', subject)}\r\nHello.\r\n`),
      });
    const row = () =>
      other.db.selectFrom('outbox').selectAll().where('kind', '=', 'inbound').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    try {
      // Committed before the 250: the row is there whatever happens to the process next.
      await send('Retried');
      expect(await row()).toMatchObject({ status: 'queued', rcpt_to: 'dan@delta.example', mail_from: 'zoe@partner.example' });
      host.failWith = 451;
      expect(await processOutboxBatch({ ctx: other, transport })).toMatchObject({ claimed: 1, retried: 1 });
      expect(host.mails).toHaveLength(0);
      host.failWith = null;
      expect(await processOutboxBatch({ ctx: other, transport, now: Date.now() + 2 * 60_000 })).toMatchObject({ claimed: 1, sent: 1 });
      expect(host.mails.map((m) => [m.parsed.subject, m.rcptTo, m.mailFrom])).toEqual([
        ['Retried', ['dan@delta.example'], 'zoe@partner.example'],
      ]);

      await send('Refused');
      host.failWith = 550;
      expect(await processOutboxBatch({ ctx: other, transport })).toMatchObject({ claimed: 1, bounced: 1 });
      expect(await row()).toMatchObject({ status: 'bounced', last_error: expect.stringMatching(/^550/) });
      const bounced = await other.db.selectFrom('audit_events').selectAll().where('type', '=', 'bounced').execute();
      expect(bounced.map((b) => JSON.parse(b.data!))).toEqual([{ status: 'bounced', kind: 'inbound' }]);
      expect(await other.db.selectFrom('outbox').select('id').where('kind', '=', 'notification').execute()).toEqual([]);
    } finally {
      transport.close();
      await otherRelay.stop();
      await host.close();
      await other.close();
    }
  });

  it('mail decrypted here waits, rather than cross a hop whose certificate is not checked, when the route was changed from verify after it was queued', async () => {
    const other = await createTestContext({ SEALPOST_CONNECTOR_CA_FILE: tlsCa.caFile });
    const own = await seedTenant(other, { mailDomain: 'echo.example' });
    await addSmimeCertificate({ db: other.db, tenantId: own.id, kind: 'ca', file: Buffer.from(smimeCa.caPem), actor: 'test' });
    const signing = smimeCa.issue({ name: 'echo-signing', email: 'eve@echo.example' });
    await importSigningCertificate({ ctx: other, tenant: own, p12: fs.readFileSync(signing.p12('pw')), password: 'pw', actor: 'test' });
    const verify = { deliverTo: `127.0.0.1:${mailHost.port}`, tls: 'verify', tlsName: 'mail.acme.example' } as const;
    await setInboundRoute({ db: other.db, tenant: own, input: verify });
    const otherRelay = await startRelay({ ctx: other, port: 0, host: '127.0.0.1' });
    const transport = createMailTransport({ smtpUrl: other.config.SMTP_URL, dataDir: other.dataDir });
    try {
      fs.writeFileSync(path.join(dir, 'echo.txt'), 'Content-Type: text/plain\r\n\r\nFor Eve only.\r\n');
      const oaep = ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'];
      const enc = openssl(['cms', '-encrypt', '-in', 'echo.txt', '-aes256', '-binary', '-crlfeol', '-recip', signing.cert, ...oaep], dir);
      await nodemailer.createTransport({ host: '127.0.0.1', port: otherRelay.port, secure: false, ignoreTLS: true }).sendMail({
        envelope: { from: 'zoe@partner.example', to: ['eve@echo.example'] },
        raw: Buffer.concat([Buffer.from(header('zoe@partner.example', 'eve@echo.example', 'Sealed for Eve')), enc]),
      });
      await setInboundRoute({ db: other.db, tenant: own, input: { ...verify, tls: 'required', tlsName: undefined, decrypt: false } });
      const before = mailHost.mails.length;
      expect(await processOutboxBatch({ ctx: other, transport })).toMatchObject({ claimed: 1, retried: 1 });
      const row = await other.db.selectFrom('outbox').selectAll().where('kind', '=', 'inbound').executeTakeFirstOrThrow();
      expect(row.last_error).toBe('decrypted inbound mail waits for an inbound route with --tls verify');
      await setInboundRoute({ db: other.db, tenant: own, input: verify });
      expect(await processOutboxBatch({ ctx: other, transport, now: Date.now() + 2 * 60_000 })).toMatchObject({ claimed: 1, sent: 1 });
      const [mail] = (await mailHost.waitFor(before + 1)).slice(before);
      expect(mail).toMatchObject({ rcptTo: ['eve@echo.example'], secure: true });
      expect(mail!.parsed.text).toMatch(/For Eve only\./);
      expect(authResults(mail!.raw).join('\n')).toMatch(/smime=none \(decrypted; not signed\)/);
    } finally {
      transport.close();
      await otherRelay.stop();
      await other.close();
    }
  });
});
