import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecipientToken, readRecipientToken, toLinkForm } from '@/lib/envelope/recipient-token';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, seedTenant, type TTestContext } from './helpers/context';

// SpamAssassin 4's __BITCOIN_ID (72_active.cf), as it reads a mail's text: behind PDS_BTC_ID and
// BITCOIN_SPAM_04. Perl's \b under (?aa) is JavaScript's \b.
const BITCOIN_ID =
  /\b(?<!=)(?:[13](?:(?:[-_=\s][a-km-zA-HJ-NP-Z1-9]){29,34}|[a-km-zA-HJ-NP-Z1-9]{29,34})|bc1[acdefghjklmnpqrstuvwxyz234567890]{30,90}|b[-_=\s]c[-_=\s]1(?:[-_=\s][acdefghjklmnpqrstuvwxyz234567890]){30,90})\b/;
const CLAIMS = { messageId: 'm-1', recipientId: 'r-1', address: 'bob@example.net' };
const unescapeLinkForm = (t: string) => t.replace(/_([pdu])/g, (_, c: string) => ({ p: '.', d: '-', u: '_' })[c]!);

describe('recipient link tokens', () => {
  let ctx: TTestContext;
  let tenant: TTenant;
  beforeAll(async () => {
    ctx = await createTestContext();
    tenant = await seedTenant(ctx);
  });
  afterAll(() => ctx.close());

  it('are one unbroken word in a link, and read back to their claims', async () => {
    const token = await createRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, claims: CLAIMS });
    expect(token).toMatch(/^\w+$/);
    await expect(readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token })).resolves.toEqual(CLAIMS);
  });

  it('a link written before, in the plain compact form, is still read', async () => {
    const token = await createRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, claims: CLAIMS });
    const plain = unescapeLinkForm(token);
    expect(plain.split('.')).toHaveLength(5);
    await expect(readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: plain })).resolves.toEqual(CLAIMS);
  });

  it.each([
    ['a stray escape', (t: string) => `${t.slice(0, 40)}_x${t.slice(40)}`],
    ['a lone underscore at the end', (t: string) => `${t}_`],
    ['a character outside the link alphabet', (t: string) => `${t.slice(0, 40)}~${t.slice(41)}`],
    ['an escape changed into another', (t: string) => t.replace('_p', '_d')],
    ['one letter changed', (t: string) => `${t.slice(0, 100)}${t[100] === 'A' ? 'B' : 'A'}${t.slice(101)}`],
  ])('a link with %s is refused as unusable', async (_, alter) => {
    const token = await createRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, claims: CLAIMS });
    await expect(readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: alter(token) })).rejects.toMatchObject({
      code: 'ENVELOPE_INVALID',
    });
  });

  it('never looks like a Bitcoin address to a spam filter, where the plain form can', async () => {
    // A plain compact token whose third piece happens to be a base58 run of 34 characters between
    // word boundaries: what about one link in 1,700 looked like before.
    const plain = 'eyJhbGciOiJkaXIifQ..3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy-Zq1x9kK.abc_def-ghi';
    expect(plain).toMatch(BITCOIN_ID);
    expect(toLinkForm(plain)).not.toMatch(BITCOIN_ID);
    for (let i = 0; i < 2000; i += 1) {
      const token = await createRecipientToken({
        db: ctx.db,
        master: ctx.master,
        tenantId: tenant.id,
        claims: { ...CLAIMS, recipientId: `r-${i}` },
      });
      const link = `https://acme.sealpost.example/r/${token}`;
      expect(link).not.toMatch(BITCOIN_ID);
    }
  });
});
