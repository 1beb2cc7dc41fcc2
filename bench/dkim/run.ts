// DKIM signing cost per mail: `npm run bench:dkim`.
//
// A wrapper mail (with its message.html) and a passcode mail are composed unsigned, then signed
// as the outbox worker signs them (signComposedMail: keys cached per process, mailauth loaded
// once), in the same run, alternating, so the ratio holds across machines when the µs do not.
// Each figure is the median of several rounds of a batch.
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createDkimKey } from '@/lib/dkim/create-dkim-key';
import { clearDkimSignerCache, signComposedMail } from '@/lib/dkim/sign-composed-mail';
import { buildPasscodeMail } from '@/lib/mail/build-passcode-mail';
import { composeWrapperMail } from '@/lib/mail/build-wrapper-mail';
import { collectMail } from '@/lib/mail/mail-source';
import { parseBranding } from '@/lib/templates/schema';
import { createTestContext, seedTenant } from '../../test/helpers/context';

const ROUNDS = 9;
const BATCH = 40;
// A wrapper's size is its message's: a short letter, and one with a 1 MB attachment.
const ENVELOPE_SIZES = [8 * 1024, 1024 * 1024];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeBatch(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < BATCH; i += 1) await work();
  return ((performance.now() - start) * 1000) / BATCH;
}

async function main() {
  const ctx = await createTestContext();
  try {
    const tenant = await seedTenant(ctx);
    const branding = parseBranding({ displayName: 'Acme Bank', disclaimer: 'Acme Bank, 1 Harbour Road.' });
    if (!branding.success) throw new Error('bench branding is invalid');
    const composers = [
      ...ENVELOPE_SIZES.map((bytes) => {
        const envelope = crypto.randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64url');
        return {
          name: `wrapper, ${bytes >= 1024 * 1024 ? `${bytes / 2 ** 20} MiB` : `${bytes / 1024} KiB`} envelope`,
          compose: async () =>
            collectMail(
              await composeWrapperMail({
                branding: branding.data,
                tenantName: tenant.name,
                sender: 'alice@acme.example',
                senderName: 'Alice Example',
                recipient: 'bob@gmail.com',
                subject: 'Your statement',
                origin: 'https://acme.sealpost.example',
                messageId: crypto.randomUUID(),
                smtpMessageId: `<${crypto.randomUUID()}@acme.example>`,
                envelope,
                recipientToken: 'x'.repeat(300),
                expiresAt: null,
                date: new Date(),
              }),
            ),
        };
      }),
      {
        name: 'passcode mail',
        compose: () =>
          buildPasscodeMail({
            branding: branding.data,
            tenantName: tenant.name,
            from: 'no-reply@acme.example',
            recipient: 'bob@gmail.com',
            code: '12345678',
            reference: 'AB12',
            smtpMessageId: `<${crypto.randomUUID()}@acme.example>`,
            date: new Date(),
          }),
      },
    ];
    const keySets: Array<{ name: string; algorithms: Array<'rsa-2048' | 'ed25519'> }> = [
      { name: 'RSA-2048', algorithms: ['rsa-2048'] },
      { name: 'Ed25519', algorithms: ['ed25519'] },
      { name: 'RSA + Ed25519 (dual)', algorithms: ['rsa-2048', 'ed25519'] },
    ];
    console.log(`DKIM signing cost per mail (median of ${ROUNDS} rounds of ${BATCH}; µs per mail; cost = signing / composing unsigned)`);
    for (const set of keySets) {
      await ctx.db.deleteFrom('dkim_keys').execute();
      for (const algorithm of set.algorithms) await createDkimKey({ ctx, tenant, algorithm });
      clearDkimSignerCache();
      console.log(`\n${set.name}`);
      for (const c of composers) {
        const raw = await c.compose();
        // The first signature of a process: keys read and unsealed, mailauth loaded.
        clearDkimSignerCache();
        const coldStart = performance.now();
        await signComposedMail({ ctx, tenantId: tenant.id, raw });
        const coldUs = (performance.now() - coldStart) * 1000;
        const compose: number[] = [];
        const sign: number[] = [];
        for (let r = 0; r < ROUNDS; r += 1) {
          compose.push(await timeBatch(c.compose));
          sign.push(await timeBatch(() => signComposedMail({ ctx, tenantId: tenant.id, raw })));
        }
        const [composeUs, signUs] = [median(compose), median(sign)];
        console.log(
          `  ${c.name.padEnd(26)} ${(raw.length / 1024).toFixed(0).padStart(6)} KiB   compose ${composeUs.toFixed(0).padStart(7)} µs   sign ${signUs.toFixed(0).padStart(6)} µs   cost ${((signUs / composeUs) * 100).toFixed(1).padStart(5)}% of composing   (first signature ${(coldUs / 1000).toFixed(1)} ms)`,
        );
      }
    }
  } finally {
    await ctx.close();
  }
}

await main();
