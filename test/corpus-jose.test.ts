import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxEnvelopeChars } from '@/lib/envelope/envelope';
import { openMessage } from '@/lib/envelope/open-message';
import { isAppError } from '@/lib/errors';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, seedTenant, type TTestContext } from './helpers/context';

type TVector = { title: string; input: { alg: string; enc: string }; output: Record<string, unknown> };
const vectors = JSON.parse(fs.readFileSync(new URL('./corpora/jose/jose-cookbook-rfc7520-jwe.json', import.meta.url), 'utf8')) as TVector[];

// Every serialisation of every RFC 7520 example: none is our exact profile, so each is refused.
const cases = vectors.flatMap((v) =>
  Object.entries(v.output).map(
    ([form, value]) =>
      [`${v.title.replace(/^.*#section-/, '§')} (${form})`, typeof value === 'string' ? value : JSON.stringify(value)] as const,
  ),
);

let ctx: TTestContext;
let tenant: TTenant;
beforeAll(async () => {
  ctx = await createTestContext();
  tenant = await seedTenant(ctx);
});
afterAll(() => ctx?.close());

describe(`RFC 7520 JWE cookbook (${vectors.length} examples, ${cases.length} serialisations)`, () => {
  it('has examples to try', () => expect(cases.length).toBeGreaterThanOrEqual(vectors.length));

  it.each(cases)('refuses %s with the one generic error', async (_title, token) => {
    const error = await openMessage({
      db: ctx.db,
      master: ctx.master,
      tenantId: tenant.id,
      token,
      maxChars: maxEnvelopeChars(1024 * 1024),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAppError(error) && error.code).toBe('ENVELOPE_INVALID');
  });
});
