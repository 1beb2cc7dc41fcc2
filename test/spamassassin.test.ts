import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDkimKey } from '@/lib/dkim/create-dkim-key';
import { clearDkimSignerCache } from '@/lib/dkim/sign-composed-mail';
import { mailMessages } from '@/lib/i18n/mail-messages';
import { createMailTransport } from '@/lib/mail/transport';
import type { TLanguage } from '@/lib/templates/schema';
import { createTestContext, makeTempDir, seedTenant } from './helpers/context';
import { tenantZone } from './helpers/dns-records';
import { startDnsServer } from './helpers/dns-server';
import { MAIL_KINDS, produceEveryKindOfMail, type TMailKind } from './helpers/every-kind-of-mail';
import { startSmtpSink, type TReceivedMail } from './helpers/smtp-sink';

// Debian's SpamAssassin (`apt-get install spamassassin`; `./run test` installs it) scores every
// kind of mail Sealpost writes, in every language, twice, from a home and preferences of its own,
// Bayes off (no corpus to learn from here):
// - local rules only (-L): each below LOCAL_MAX_SCORE;
// - with its DNS pointed at a server on loopback that serves the tenant's DKIM, SPF and DMARC
//   records (and NXDOMAIN for everything else; Razor, Pyzor, DCC and blocklists off: nothing
//   leaves the machine): DKIM_VALID, DKIM_VALID_AU and SPF_PASS on each, and no rule that adds
//   points except DKIM_SIGNED (offset by DKIM_VALID), so a total <= 0; except that a reply or forward
//   by a reader at a free-mail provider, written as the tenant with Reply-To the reader (the
//   template's default, `replyToReader`), gets FREEMAIL_FORGED_REPLYTO and nothing else: From on
//   the tenant's domain with Reply-To at gmail.com is that rule's very pattern, whoever sends it.
//   With `replyToReader` off, or a reader on a company's domain, it scores <= 0 like the rest.
// Not skipped when SpamAssassin is missing: a missing filter must fail loudly.
const SPAMASSASSIN = '/usr/bin/spamassassin';
const LOCAL_MAX_SCORE = 2.0;
const LANGUAGES: TLanguage[] = ['en', 'zh-Hant', 'zh-Hans'];
// The sending server as the receiving MTA records it: a public address (example.com's), listed in SPF.
const SENDING_IP = '93.184.215.14';
const REPLY_TO_READER: ReadonlySet<TMailKind> = new Set(['reply', 'forward']);

type TScore = { score: number; points: Map<string, number> };

// What the receiving MTA adds before filtering: Return-Path (the envelope sender) and its Received line.
const asReceived = (mail: TReceivedMail) =>
  Buffer.concat([
    Buffer.from(
      `Return-Path: <${mail.mailFrom}>\r\nReceived: from mail.acme.example (mail.acme.example [${SENDING_IP}])\r\n\tby mx.example.net (Postfix) with ESMTPS id 4Xq9; ${new Date().toUTCString()}\r\n`,
    ),
    mail.raw,
  ]);

const messageIdOf = (text: string) => /^Message-ID: (<[^>]+>)/im.exec(text)?.[1] ?? '';

// All the mails in one mbox, one SpamAssassin run (its rule set takes seconds to load). Async: the
// DNS server it asks lives in this process.
async function scoreWithSpamAssassin(mails: Buffer[], { isLocal, config }: { isLocal: boolean; config: string[] }): Promise<TScore[]> {
  const home = makeTempDir('sealpost-sa-');
  try {
    const mbox = mails
      .map(
        (m) =>
          `From sealpost@localhost Thu Dec  3 10:00:00 2026\n${m
            .toString('utf8')
            .replace(/\r\n/g, '\n')
            .replace(/^From /gm, '>From ')}\n`,
      )
      .join('\n');
    fs.writeFileSync(path.join(home, 'mail.mbox'), mbox);
    fs.writeFileSync(path.join(home, 'user_prefs'), '');
    const args = [
      ...(isLocal ? ['-L'] : []),
      '-t',
      '-x',
      '--mbox',
      '-p',
      path.join(home, 'user_prefs'),
      ...config.map((c) => `--cf=${c}`),
      path.join(home, 'mail.mbox'),
    ];
    const child = spawn(SPAMASSASSIN, args, { env: { ...process.env, HOME: home } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | Error>((resolve) => {
      child.on('error', resolve);
      child.on('close', (code) => resolve(code ?? -1));
    });
    if (status !== 0) throw new Error(`${SPAMASSASSIN} failed (${status}): ${stderr.slice(0, 500)}`);
    // SpamAssassin reads an mbox in its own order: each result is found by its Message-ID. The
    // report (-t) lists each rule that hit with its points.
    const byMessageId = new Map<string, TScore>();
    for (const chunk of stdout.replace(/\r\n/g, '\n').split(/^From sealpost@localhost .*$/m)) {
      const head = chunk.slice(0, chunk.indexOf('\n\n')).replace(/\n[ \t]+/g, ' ');
      const score = /^X-Spam-Status: (?:Yes|No), score=(-?[\d.]+)/m.exec(head)?.[1];
      if (score === undefined) continue;
      const points = new Map([...chunk.matchAll(/^\s*(-?\d+(?:\.\d+)?) ([A-Z][A-Z0-9_]+) /gm)].map((m) => [m[2]!, Number(m[1])]));
      byMessageId.set(messageIdOf(head), { score: Number(score), points });
    }
    return mails.map((m) => byMessageId.get(messageIdOf(m.toString('utf8'))) ?? { score: Number.NaN, points: new Map() });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

const results: string[] = [];
afterAll(() => {
  // The figures for the closing note.
  for (const line of results) console.log(line);
});

const describeRules = (s: TScore) => [...s.points].map(([rule, pts]) => `${rule}(${pts})`).join(' ');

describe('SpamAssassin', () => {
  it.each(LANGUAGES)(
    'every kind of mail in %s: clean on local rules, and authenticated with DNS',
    { timeout: 180_000 },
    async (language) => {
      const sink = await startSmtpSink();
      // A real deployment's links: https on the tenant's host, no port.
      const ctx = await createTestContext({ SMTP_URL: sink.url, SEALPOST_BASE_DOMAIN: 'sealpost.example' });
      const transport = createMailTransport({ smtpUrl: ctx.config.SMTP_URL, dataDir: ctx.dataDir });
      try {
        const tenant = await seedTenant(ctx);
        await createDkimKey({ ctx, tenant, selector: 'rsa1', algorithm: 'rsa-2048' });
        await createDkimKey({ ctx, tenant, selector: 'ed1', algorithm: 'ed25519' });
        const mails = await produceEveryKindOfMail({ ctx, tenant, sink, transport, language });
        const kinds = [...mails.keys()];
        expect(kinds).toEqual([...MAIL_KINDS]);
        const received = kinds.map((k) => asReceived(mails.get(k)!));

        const local = await scoreWithSpamAssassin(received, { isLocal: true, config: ['use_bayes 0'] });
        const keys = await ctx.db.selectFrom('dkim_keys').selectAll().execute();
        const dns = await startDnsServer(tenantZone({ domain: tenant.mail_domain, keys, ip: SENDING_IP }));
        let networked: TScore[];
        try {
          networked = await scoreWithSpamAssassin(received, {
            isLocal: false,
            config: [
              `dns_server 127.0.0.1:${dns.port}`,
              'dns_available yes',
              'use_bayes 0',
              'use_razor2 0',
              'use_pyzor 0',
              'use_dcc 0',
              'skip_rbl_checks 1',
            ],
          });
          // The DKIM and SPF answers came from our server.
          expect(dns.queries).toEqual(expect.arrayContaining([`rsa1._domainkey.${tenant.mail_domain}/16`, `${tenant.mail_domain}/16`]));
        } finally {
          await dns.close();
        }
        for (const [i, kind] of kinds.entries()) {
          const [l, n] = [local[i]!, networked[i]!];
          results.push(
            `spamassassin ${language.padEnd(7)} ${kind.padEnd(22)} local ${l.score.toFixed(1).padStart(4)} [${describeRules(l)}]  with DNS ${n.score.toFixed(1).padStart(4)} [${describeRules(n)}]`,
          );
          expect(l.score, `${language} ${kind} (local): ${describeRules(l)}`).toBeLessThan(LOCAL_MAX_SCORE);
          // The text part says what the HTML says (2.2 points when it does not).
          expect([...l.points.keys()], `${language} ${kind}`).not.toContain('MPART_ALT_DIFF');
          expect([...n.points.keys()], `${language} ${kind} (with DNS)`).toEqual(
            expect.arrayContaining(['DKIM_VALID', 'DKIM_VALID_AU', 'SPF_PASS']),
          );
          // DKIM_SIGNED (+0.1) comes with DKIM_VALID (-0.1) by design.
          const adding = [...n.points].filter(
            ([rule, pts]) => pts > 0 && rule !== 'DKIM_SIGNED' && !(REPLY_TO_READER.has(kind) && rule === 'FREEMAIL_FORGED_REPLYTO'),
          );
          expect(adding, `${language} ${kind} (with DNS): ${describeRules(n)}`).toEqual([]);
          if (REPLY_TO_READER.has(kind)) {
            expect(mails.get(kind)!.parsed.replyTo?.value[0]?.address).toBe('bob@gmail.com');
            expect(n.points.has('FREEMAIL_FORGED_REPLYTO'), `${language} ${kind}: ${describeRules(n)}`).toBe(true);
            expect(n.score).toBeLessThanOrEqual(n.points.get('FREEMAIL_FORGED_REPLYTO')!);
          } else expect(n.score, `${language} ${kind} (with DNS)`).toBeLessThanOrEqual(0);
          // Without Reply-To, the wrapper says where to answer, in both parts.
          const { answerInPortal } = mailMessages(language);
          if (kind === 'reply-no-reply-to') {
            expect(mails.get(kind)!.parsed.replyTo).toBeUndefined();
            expect(mails.get(kind)!.parsed.text).toContain(answerInPortal);
            expect(String(mails.get(kind)!.parsed.html)).toContain(answerInPortal);
          } else expect(mails.get(kind)!.parsed.text ?? '').not.toContain(answerInPortal);
          if (kind === 'reply-company-reader') expect(mails.get(kind)!.parsed.replyTo?.value[0]?.address).toBe('dave@example.org');
        }
      } finally {
        clearDkimSignerCache();
        transport.close();
        await sink.close();
        await ctx.close();
      }
    },
  );
});
