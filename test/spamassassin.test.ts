import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDkimKey } from '@/lib/dkim/create-dkim-key';
import { clearDkimSignerCache } from '@/lib/dkim/sign-composed-mail';
import { createMailTransport } from '@/lib/mail/transport';
import type { TLanguage } from '@/lib/templates/schema';
import { createTestContext, makeTempDir, seedTenant } from './helpers/context';
import { MAIL_KINDS, produceEveryKindOfMail } from './helpers/every-kind-of-mail';
import { startSmtpSink, type TReceivedMail } from './helpers/smtp-sink';

// Debian's SpamAssassin (`apt-get install spamassassin`; `./run test` installs it), local tests
// only (-L: no DNS, no network), from a home and preferences of its own, Bayes off (no corpus to
// learn from here). Every kind of mail in every language must score below MAX_SCORE.
const SPAMASSASSIN = '/usr/bin/spamassassin';
const MAX_SCORE = 2.0;
const LANGUAGES: TLanguage[] = ['en', 'zh-Hant', 'zh-Hans'];

type TScore = { score: number; rules: string[] };

// What the receiving MTA adds before filtering: Return-Path, the envelope sender.
const asReceived = (mail: TReceivedMail) => Buffer.concat([Buffer.from(`Return-Path: <${mail.mailFrom}>\r\n`), mail.raw]);

// All the mails in one mbox, one SpamAssassin run (its rule set takes seconds to load).
function scoreWithSpamAssassin(mails: Buffer[]): TScore[] {
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
    const r = spawnSync(
      SPAMASSASSIN,
      ['-L', '-t', '-x', '--mbox', '-p', path.join(home, 'user_prefs'), '--cf=use_bayes 0', path.join(home, 'mail.mbox')],
      { env: { ...process.env, HOME: home }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
    );
    if (r.error || r.status !== 0) throw new Error(`${SPAMASSASSIN} failed (${r.error?.message ?? r.status}): ${String(r.stderr).slice(0, 500)}`);
    // SpamAssassin reads an mbox in its own order: each result is found by its Message-ID.
    const byMessageId = new Map<string, TScore>();
    for (const chunk of r.stdout.split(/^From sealpost@localhost .*$/m)) {
      const head = chunk.slice(0, chunk.search(/\n\n/)).replace(/\n[ \t]+/g, ' ');
      const status = /^X-Spam-Status: (?:Yes|No), score=(-?[\d.]+) required=[\d.]+ tests=(.*?) autolearn=/m.exec(head);
      const messageId = /^Message-ID: (<[^>]+>)/im.exec(head)?.[1];
      if (status && messageId)
        byMessageId.set(messageId, {
          score: Number(status[1]),
          rules: status[2]!
            .replace(/\s+/g, '')
            .split(',')
            .filter((x) => x && x !== 'none'),
        });
    }
    return mails.map(
      (m) => byMessageId.get(/^Message-ID: (<[^>]+>)/im.exec(m.toString('utf8'))?.[1] ?? '') ?? { score: Number.NaN, rules: [] },
    );
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

const results: Array<{ language: TLanguage; kind: string } & TScore> = [];
afterAll(() => {
  // The figures for the closing note.
  for (const r of results)
    console.log(`spamassassin ${r.language.padEnd(7)} ${r.kind.padEnd(22)} ${r.score.toFixed(1).padStart(5)}  ${r.rules.join(' ')}`);
});

// Not skipped when SpamAssassin is missing: `./run test` installs it, and a missing filter must fail loudly.
describe('SpamAssassin (local tests)', () => {
  it.each(LANGUAGES)('every kind of mail in %s scores below 2.0', async (language) => {
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
      const scores = scoreWithSpamAssassin(kinds.map((k) => asReceived(mails.get(k)!)));
      expect(scores).toHaveLength(kinds.length);
      for (const [i, kind] of kinds.entries()) {
        results.push({ language, kind, ...scores[i]! });
        expect(scores[i]!.score, `${language} ${kind}: ${scores[i]!.rules.join(' ')}`).toBeLessThan(MAX_SCORE);
        // The text part says what the HTML says (2.2 points when it does not).
        expect(scores[i]!.rules, `${language} ${kind}`).not.toContain('MPART_ALT_DIFF');
      }
    } finally {
      clearDkimSignerCache();
      transport.close();
      await sink.close();
      await ctx.close();
    }
  });
});
