import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@/lib/errors';
import { revokeMessage } from '@/lib/envelope/revoke-message';
import { sendMessage } from '@/lib/messages/send-message';
import { deleteTemplate } from '@/lib/templates/delete-template';
import { getBranding } from '@/lib/templates/get-branding';
import { listTemplates } from '@/lib/templates/list-templates';
import { parseBranding, ZBranding } from '@/lib/templates/schema';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';

let ctx: TTestContext;
let tenant: TTenant;
beforeAll(async () => {
  ctx = await createTestContext();
  tenant = await seedTenant(ctx, { mailDomain: `templates-${process.pid}.example` });
});
afterAll(() => ctx?.close());

const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => (isAppError(e) ? e.code : String(e)),
  );

describe('a template is its look and its policy', () => {
  const FLAT = {
    displayName: 'Crest',
    primaryColour: '#7a1f5c',
    hideSubject: true,
    language: 'zh-Hant',
    allowForward: true,
    expiryDays: 7,
    delivery: { link: false, attachment: true },
    signInMethods: { google: false },
  };
  const NESTED = {
    look: { displayName: 'Crest', primaryColour: '#7a1f5c', hideSubject: true, language: 'zh-Hant' },
    policy: { allowForward: true, expiryDays: 7, delivery: { link: false, attachment: true }, signInMethods: { google: false } },
  };

  it('the flat JSON of `branding set` and the { look, policy } shape parse to the same template', () => {
    const flat = parseBranding(FLAT);
    const nested = parseBranding(NESTED);
    expect(flat).toEqual(nested);
    expect(flat.success && flat.data.look).toMatchObject({
      displayName: 'Crest',
      primaryColour: '#7a1f5c',
      buttonTextColour: '#ffffff',
      hideSubject: true,
      language: 'zh-Hant',
    });
    expect(flat.success && flat.data.policy).toEqual({
      allowForward: true,
      restrictions: 'none',
      expiryDays: 7,
      delivery: { link: false, attachment: true },
      signInMethods: { passcode: true, microsoft: true, google: false, oidc: [] },
      // A template that does not name it keeps S/MIME off.
      smime: 'off',
      replyToReader: true,
    });
    expect(parseBranding({})).toEqual({ success: true, data: ZBranding.parse({}) });
  });

  it.each([
    [{ primaryColour: 'red' }, 'primaryColour: '],
    [{ look: { primaryColour: 'red' } }, 'look.primaryColour: '],
    [{ look: { allowForward: true } }, 'look: '],
    [{ look: {}, expiryDays: 3 }, '(root): '],
    [{ policy: { delivery: { link: false, attachment: false } } }, 'policy.delivery: '],
  ])('refuses %j naming the field as written', (input, problem) => {
    const parsed = parseBranding(input);
    expect(parsed.success).toBe(false);
    expect(!parsed.success && parsed.problems.join('; ')).toContain(problem);
  });

  it('is stored as { look, policy }; a row stored flat before the split reads the same', async () => {
    await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'crest', input: FLAT });
    const row = await ctx.db
      .selectFrom('branding')
      .select('json')
      .where('tenant_id', '=', tenant.id)
      .where('name', '=', 'crest')
      .executeTakeFirstOrThrow();
    expect(Object.keys(JSON.parse(row.json))).toEqual(['look', 'policy']);
    await ctx.db
      .updateTable('branding')
      .set({ json: JSON.stringify(FLAT) })
      .where('tenant_id', '=', tenant.id)
      .where('name', '=', 'crest')
      .execute();
    expect(await getBranding(ctx.db, tenant.id, 'crest')).toEqual((parseBranding(NESTED) as { data: unknown }).data);
    expect((await listTemplates({ db: ctx.db, tenantId: tenant.id })).map((t) => t.name)).toEqual(['crest', 'default']);
  });

  it('refuses a template name outside the pattern', async () => {
    await expect(errorCode(setBranding({ db: ctx.db, tenantId: tenant.id, template: '../Other', input: {} }))).resolves.toBe('BAD_REQUEST');
  });
});

describe('deleting a template', () => {
  it('refuses the default template, and one a message can still be opened under; a name it does not have is 404', async () => {
    await expect(errorCode(deleteTemplate({ db: ctx.db, tenantId: tenant.id, template: 'default' }))).resolves.toBe('BAD_REQUEST');
    await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'strict', input: { signInMethods: { passcode: false } } });
    const sent = await sendMessage({
      ctx,
      tenant,
      raw: sampleEml({ from: `Alice <alice@templates-${process.pid}.example>` }),
      template: 'strict',
      deliver: false,
    });
    // Deleting it would fall the message back to the default template, passcodes on again.
    await expect(errorCode(deleteTemplate({ db: ctx.db, tenantId: tenant.id, template: 'strict' }))).resolves.toBe('CONFLICT');
    expect((await getBranding(ctx.db, tenant.id, 'strict')).policy.signInMethods.passcode).toBe(false);
    await revokeMessage({ db: ctx.db, messageId: sent.messageId });
    await deleteTemplate({ db: ctx.db, tenantId: tenant.id, template: 'strict' });
    expect((await listTemplates({ db: ctx.db, tenantId: tenant.id })).map((t) => t.name)).not.toContain('strict');
    await expect(errorCode(deleteTemplate({ db: ctx.db, tenantId: tenant.id, template: 'strict' }))).resolves.toBe('NOT_FOUND');
  });
});
