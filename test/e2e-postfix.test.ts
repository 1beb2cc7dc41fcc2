import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutboxWorker } from '@/lib/mail/outbox-worker';
import { startRelay, type TRelay } from '@/lib/relay/start-relay';
import type { TTenant } from '@/lib/tenants/tenants';
import { runCli } from './helpers/cli';
import { createTestContext, seedTenant, type TTestContext } from './helpers/context';
import { openWrapper } from './helpers/open-wrapper';
import { freePort } from './helpers/server';
import { startSmtpSink, type TReceivedMail, type TSmtpSink } from './helpers/smtp-sink';

// Debian's Postfix as the organisation's mail server, with Sealpost as its smart host: relayhost,
// SASL with a relay credential, TLS required. Postfix runs from a temporary configuration
// directory of its own (`postfix -c`); /etc/postfix and any system instance are never touched.

const POSTFIX = '/usr/sbin/postfix';

let ctx: TTestContext;
let sink: TSmtpSink;
let tenant: TTenant;
let relay: TRelay;
let worker: { stop(): Promise<void> };
let dir = '';
let smtpdPort = 0;
let submit: ReturnType<typeof nodemailer.createTransport>;

const message = ({
  id,
  to,
  subject,
  body = 'Hello.',
  extra = [],
}: {
  id: string;
  to: string;
  subject: string;
  body?: string;
  extra?: string[];
}) =>
  Buffer.from(
    [
      `From: Alice <alice@acme.example>`,
      `To: ${to}`,
      `Subject: ${subject}`,
      `Message-ID: <${id}@acme.example>`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      'DKIM-Signature: v=1; a=rsa-sha256; d=acme.example; s=s1; bh=abc=; b=def=',
      ...extra,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
    ].join('\r\n'),
  );

// The message without the Received fields at its top (Postfix's and the relay's).
const withoutReceived = (raw: Buffer) => {
  let text = raw.toString('latin1');
  for (
    let m = /^Received:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*/i.exec(text);
    m;
    m = /^Received:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*/i.exec(text)
  )
    text = text.slice(m[0].length);
  return Buffer.from(text, 'latin1');
};
const receivedFields = (raw: Buffer) =>
  raw
    .toString('latin1')
    .split(/\r?\n(?![ \t])/)
    .filter((l, i, all) => /^Received:/i.test(l) && all.slice(0, i).every((p) => /^Received:/i.test(p)));

async function waitForMail(match: (m: TReceivedMail) => boolean, count = 1, timeoutMs = 30_000): Promise<TReceivedMail[]> {
  const started = Date.now();
  for (;;) {
    const found = sink.mails.filter(match);
    if (found.length >= count) return found;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out waiting for mail; Postfix log:\n${fs.readFileSync(path.join(dir, 'maillog'), 'utf8').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext({ SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '50' });
  tenant = await seedTenant(ctx, { mailDomain: 'acme.example' });
  // As on a real network: AUTH only after STARTTLS, even from loopback.
  relay = await startRelay({ ctx, port: 0, host: '127.0.0.1', isLoopbackTrusted: false });
  worker = startOutboxWorker({ ctx });
  const credential = runCli(['relay-credential', 'create', '--tenant', tenant.slug], ctx.cliEnv);
  expect(credential.status, credential.stderr).toBe(0);
  const { username, password } = credential.json as { username: string; password: string };
  const secure = runCli(
    [
      'rules',
      'add',
      '--tenant',
      tenant.slug,
      '--name',
      'secure outside',
      '--subject-contains',
      '[secure]',
      '--recipient-outside',
      '--action',
      'encrypt',
      '--remove-keyword',
      '--stop',
    ],
    ctx.cliEnv,
  );
  expect(secure.status, secure.stderr).toBe(0);
  const reject = runCli(
    [
      'rules',
      'add',
      '--tenant',
      tenant.slug,
      '--name',
      'no exports',
      '--header',
      'X-Classification:export-controlled',
      '--action',
      'reject',
      '--reject-text',
      'Export-controlled mail may not leave Acme (policy EX-7)',
    ],
    ctx.cliEnv,
  );
  expect(reject.status, reject.stderr).toBe(0);

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-postfix-'));
  // Postfix's own processes (user postfix) must reach the queue under it.
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'queue'), { mode: 0o755 });
  smtpdPort = await freePort();
  const relayhost = `[127.0.0.1]:${relay.port}`;
  fs.writeFileSync(path.join(dir, 'sasl_passwd'), `${relayhost} ${username}:${password}\n`, { mode: 0o600 });
  // Bounces to the sender go straight to the sink: the relay (rightly) takes no null-sender mail.
  fs.writeFileSync(path.join(dir, 'transport'), `alice@acme.example sink:[127.0.0.1]:${sink.port}\n`);
  fs.writeFileSync(
    path.join(dir, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${dir}/queue`,
      `data_directory = ${dir}/data`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      // Not "localhost": the relay greets as that, and Postfix refuses a host greeting with its own name.
      'myhostname = mail.acme.example',
      'mydomain = acme.example',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mydestination =',
      'local_recipient_maps =',
      'alias_maps =',
      'alias_database =',
      'mynetworks = 127.0.0.0/8',
      'smtpd_relay_restrictions = permit_mynetworks, reject',
      `maillog_file_prefixes = ${dir}`,
      `maillog_file = ${dir}/maillog`,
      // What the README tells an organisation to set.
      `relayhost = ${relayhost}`,
      'smtp_sasl_auth_enable = yes',
      `smtp_sasl_password_maps = texthash:${dir}/sasl_passwd`,
      'smtp_sasl_security_options = noanonymous',
      'smtp_sasl_tls_security_options = noanonymous',
      'smtp_tls_security_level = encrypt',
      'smtp_tls_mandatory_protocols = >=TLSv1.2',
      // Logs each TLS session, so the test sees the relay was reached over TLS.
      'smtp_tls_loglevel = 1',
      `transport_maps = texthash:${dir}/transport`,
      'delay_warning_time = 0',
      '',
    ].join('\n'),
  );
  // Debian's services without chroot (the temporary queue has no chroot tree), and "sink": plain
  // SMTP without SASL for the bounces.
  const services = [
    `127.0.0.1:${smtpdPort} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'tlsmgr unix - - n 1000? 1 tlsmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'sink unix - - n - - smtp -o smtp_tls_security_level=none -o smtp_sasl_auth_enable=no',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  fs.writeFileSync(path.join(dir, 'master.cf'), `${services.join('\n')}\n`);
  try {
    execFileSync(POSTFIX, ['-c', dir, 'start'], { stdio: 'pipe' });
  } catch (error) {
    // Without a terminal Postfix reports only to its log (or syslog, before postlogd runs).
    const log = fs.existsSync(path.join(dir, 'maillog')) ? fs.readFileSync(path.join(dir, 'maillog'), 'utf8').slice(-3000) : '(no maillog)';
    throw new Error(`postfix -c ${dir} start failed: ${(error as Error).message}\n${log}`);
  }
  submit = nodemailer.createTransport({ host: '127.0.0.1', port: smtpdPort, secure: false, ignoreTLS: true });
  const started = Date.now();
  for (;;) {
    try {
      await submit.verify();
      break;
    } catch (error) {
      if (Date.now() - started > 20_000) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}, 120_000);

afterAll(async () => {
  submit?.close();
  if (dir) {
    try {
      execFileSync(POSTFIX, ['-c', dir, 'stop'], { stdio: 'pipe' });
    } catch {
      // not started
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await worker?.stop();
  await relay?.stop();
  await sink?.close();
  await ctx?.close();
});

describe('Postfix with Sealpost as its smart host', () => {
  it('(a) "[secure]" to an outside address reaches the sink as a wrapper whose envelope opens to the original', async () => {
    const raw = message({ id: 'pf-secure', to: 'bob@partner.example', subject: '[secure] Quarterly figures', body: 'The secret figures.' });
    await submit.sendMail({ envelope: { from: 'alice@acme.example', to: ['bob@partner.example'] }, raw });
    const [mail] = await waitForMail((m) => m.rcptTo[0] === 'bob@partner.example');
    expect(mail!.raw.includes('The secret figures')).toBe(false);
    expect(mail!.parsed.subject).toBe('Quarterly figures');
    const opened = await openWrapper({ ctx, tenant, mail: mail! });
    expect(opened.claims.address).toBe('bob@partner.example');
    // What Alice sent, as Postfix handed it on (its Received field on top), keyword removed.
    expect(receivedFields(opened.mime)).toHaveLength(1);
    expect(
      withoutReceived(opened.mime).equals(
        Buffer.from(raw.toString('latin1').replace('Subject: [secure] Quarterly figures', 'Subject: Quarterly figures'), 'latin1'),
      ),
    ).toBe(true);
    // Postfix reached the relay over TLS and authenticated (ESMTPSA), as main.cf requires.
    const log = fs.readFileSync(path.join(dir, 'maillog'), 'utf8');
    expect(log).toMatch(new RegExp(`TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${relay.port}: TLSv1\\.[23]`));
  });

  it('(b) plain internal mail passes through byte-identical apart from Received:', async () => {
    const raw = message({ id: 'pf-internal', to: 'colleague@acme.example', subject: 'Lunch?', body: 'Noon at the usual place.' });
    await submit.sendMail({ envelope: { from: 'alice@acme.example', to: ['colleague@acme.example'] }, raw });
    const [mail] = await waitForMail((m) => m.rcptTo[0] === 'colleague@acme.example' && m.raw.includes('<pf-internal@acme.example>'));
    expect(withoutReceived(mail!.raw).equals(raw)).toBe(true);
    const received = receivedFields(mail!.raw);
    // The relay's own (on top: Postfix authenticated over TLS), then Postfix's.
    expect(received).toHaveLength(2);
    expect(received[0]).toMatch(/\(Sealpost relay\) with ESMTPSA id /);
    expect(received[1]).toMatch(/by mail\.acme\.example \(Postfix\)/);
  });

  it('(c) one internal plus one outside recipient is split: the colleague gets the original, the customer a wrapper', async () => {
    const raw = message({
      id: 'pf-split',
      to: 'colleague@acme.example, customer@partner.example',
      subject: '[secure] Your contract',
      body: 'Contract terms.',
    });
    await submit.sendMail({ envelope: { from: 'alice@acme.example', to: ['colleague@acme.example', 'customer@partner.example'] }, raw });
    const [colleague] = await waitForMail((m) => m.rcptTo[0] === 'colleague@acme.example' && m.raw.includes('<pf-split@acme.example>'));
    const [customer] = await waitForMail((m) => m.rcptTo[0] === 'customer@partner.example');
    expect(withoutReceived(colleague!.raw).equals(raw)).toBe(true);
    expect(customer!.raw.includes('Contract terms')).toBe(false);
    const opened = await openWrapper({ ctx, tenant, mail: customer! });
    expect(opened.claims.address).toBe('customer@partner.example');
    expect(withoutReceived(opened.mime).toString('latin1')).toBe(
      raw.toString('latin1').replace('Subject: [secure] Your contract', 'Subject: Your contract'),
    );
  });

  it("(d) a reject rule makes Postfix bounce to the sender with the rule's text in the bounce", async () => {
    const count = async () =>
      Number(
        (
          await ctx.db
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const raw = message({
      id: 'pf-reject',
      to: 'buyer@partner.example',
      subject: 'Drawings',
      extra: ['X-Classification: export-controlled'],
    });
    // Postfix accepts the submission (250); the relay refuses it when Postfix hands it on.
    const info = await submit.sendMail({ envelope: { from: 'alice@acme.example', to: ['buyer@partner.example'] }, raw });
    expect(info.response).toMatch(/^250 /);
    const [bounce] = await waitForMail((m) => m.rcptTo[0] === 'alice@acme.example');
    expect(bounce!.mailFrom).toBe('');
    // Unfolded: Postfix folds the remote server's reply in the DSN.
    const text = bounce!.raw.toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
    expect(text).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/i);
    expect(text).toContain('550 5.7.1 Export-controlled mail may not leave Acme (policy EX-7)');
    expect(text).toMatch(/Final-Recipient: rfc822; ?buyer@partner\.example/);
    expect(text).toMatch(/Status: 5\.7\.1/);
    expect(sink.mails.some((m) => m.rcptTo[0] === 'buyer@partner.example')).toBe(false);
    expect(await count()).toBe(before);
  });
});
