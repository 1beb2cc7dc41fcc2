import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAdminMessageOrThrow } from '@/lib/admin/get-admin-message';
import { brandingFromForm, brandingToForm } from '@/lib/admin/templates/branding-form';
import { isAppError } from '@/lib/errors';
import { messageBodyResponse } from '@/lib/http/message-body-response';
import { brandingForMessage } from '@/lib/messages/message-restrictions';
import { sendForward } from '@/lib/messages/send-forward';
import { sendMessage } from '@/lib/messages/send-message';
import { sendReply } from '@/lib/messages/send-reply';
import { toMessageView } from '@/lib/messages/to-message-view';
import { relayMessage } from '@/lib/relay/relay-message';
import { addRule } from '@/lib/rules/add-rule';
import { watermarkText } from '@/lib/portal/read-message-body';
import { getMessage, listRecipients } from '@/lib/store/messages';
import { parseBranding } from '@/lib/templates/schema';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';

// Usage restrictions (issue 16): a template's `restrictions`, recorded on each message when it is
// sent, and enforced by the server whatever a client posts.

let ctx: TTestContext;
let tenant: TTenant;
let from: string;
beforeAll(async () => {
  ctx = await createTestContext();
  tenant = await seedTenant(ctx, { mailDomain: `restrict-${process.pid}.example` });
  from = `Alice Example <alice@${tenant.mail_domain}>`;
  await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'dnf', input: { restrictions: 'do-not-forward', allowForward: true } });
  await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'open', input: { allowForward: true } });
});
afterAll(() => ctx?.close());

const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => (isAppError(e) ? e.code : String(e)),
  );

const refusals = (messageId: string) =>
  ctx.db
    .selectFrom('audit_events')
    .selectAll()
    .where('message_id', '=', messageId)
    .where('type', '=', 'restricted_action_refused')
    .execute();

async function send(
  template: string,
  { to = ['bob@gmail.com', 'carol@yahoo.com'], envelopeRecipients }: { to?: string[]; envelopeRecipients?: string[] } = {},
) {
  const raw = sampleEml({ to, from });
  const sent = await sendMessage({ ctx, tenant, raw, template, envelopeRecipients, deliver: false });
  const view = await toMessageView({ mime: raw, attachmentUrl: (i) => String(i) });
  return { messageId: sent.messageId, raw, view, sent };
}

const reply = (
  messageId: string,
  view: Awaited<ReturnType<typeof toMessageView>>,
  addedRecipients: string[] = [],
  replier = 'bob@gmail.com',
) =>
  sendReply({
    ctx,
    tenant,
    original: { messageId, view },
    from: replier,
    isReplyAll: true,
    body: 'Noted.',
    attachments: [],
    addedRecipients,
  });

describe('the template policy', () => {
  it('defaults to none (Encrypt-Only), so templates stored before it read as they did', () => {
    const stored = parseBranding({ displayName: 'Old', allowForward: true });
    expect(stored.success && stored.data.policy.restrictions).toBe('none');
    expect(parseBranding({ policy: { restrictions: 'do-not-forward' } })).toMatchObject({
      success: true,
      data: { policy: { restrictions: 'do-not-forward' } },
    });
    expect(parseBranding({ restrictions: 'do-not-forward' })).toMatchObject({
      success: true,
      data: { policy: { restrictions: 'do-not-forward' } },
    });
  });

  it.each([['no-print'], [''], [true], ['DO-NOT-FORWARD']])('refuses restrictions %j, naming the field', (value) => {
    const parsed = parseBranding({ restrictions: value });
    expect(parsed.success).toBe(false);
    expect(!parsed.success && parsed.problems.join('; ')).toMatch(/^restrictions: /);
  });

  it('the admin form carries it both ways, and a forged value is left for the schema to refuse', () => {
    const form = new URLSearchParams({ restrictions: 'do-not-forward', deliveryLink: 'on', passcode: 'on' });
    expect(brandingFromForm({ form, logo: undefined }).policy.restrictions).toBe('do-not-forward');
    expect(brandingFromForm({ form: new URLSearchParams(), logo: undefined }).policy.restrictions).toBe('none');
    expect(brandingFromForm({ form: new URLSearchParams({ restrictions: 'lax' }), logo: undefined }).policy.restrictions).toBe('lax');
    const parsed = parseBranding({ restrictions: 'do-not-forward' });
    expect(parsed.success && brandingToForm(parsed.data).restrictions).toBe('do-not-forward');
  });
});

describe('a message keeps the restrictions it was sent under', () => {
  it('is recorded at send time; loosening its template (or falling back to the default) later does not loosen it, tightening does tighten', async () => {
    await setBranding({
      db: ctx.db,
      tenantId: tenant.id,
      template: 'later',
      input: { restrictions: 'do-not-forward', allowForward: true },
    });
    const { messageId } = await send('later');
    const message = (await getMessage(ctx.db, messageId))!;
    expect(message.restrictions).toBe('do-not-forward');
    expect(await getAdminMessageOrThrow({ db: ctx.db, master: ctx.master, tenantId: tenant.id, messageId })).toMatchObject({
      restrictions: 'do-not-forward',
    });
    await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'later', input: { restrictions: 'none', allowForward: true } });
    expect((await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message })).policy).toMatchObject({
      restrictions: 'do-not-forward',
      allowForward: false,
    });
    // (A template in use cannot be deleted; the default it would fall back to cannot loosen it either.)
    await setBranding({ db: ctx.db, tenantId: tenant.id, input: { restrictions: 'none', allowForward: true } });
    expect(
      (await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message: { ...message, template: 'gone' } })).policy.restrictions,
    ).toBe('do-not-forward');

    await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'tighten', input: { allowForward: true } });
    const loose = (await getMessage(ctx.db, (await send('tighten')).messageId))!;
    expect(loose.restrictions).toBe('none');
    await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'tighten', input: { restrictions: 'do-not-forward' } });
    expect((await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message: loose })).policy.restrictions).toBe('do-not-forward');
  });

  it('a mail-flow rule reaches it by choosing the template: a relayed message to an outsider is sealed Do Not Forward', async () => {
    await addRule({
      db: ctx.db,
      tenantId: tenant.id,
      input: { name: 'outside', conditions: [{ type: 'recipientOutside' }], action: { kind: 'encrypt', template: 'dnf' } },
    });
    const outcome = await relayMessage({
      ctx,
      tenant,
      mailFrom: `alice@${tenant.mail_domain}`,
      rcptTo: ['bob@gmail.com'],
      raw: sampleEml({ to: ['bob@gmail.com'], from }),
      received: 'Received: from test\r\n',
    });
    expect(outcome.kind).toBe('accepted');
    const [id] = outcome.kind === 'accepted' ? outcome.messageIds : [];
    expect(await getMessage(ctx.db, id!)).toMatchObject({ template: 'dnf', restrictions: 'do-not-forward' });
  });

  it("a reply inherits its parent's restrictions (it quotes it), whatever template the reply is sent with", async () => {
    const { messageId, view } = await send('dnf');
    const sent = await reply(messageId, view);
    expect((await getMessage(ctx.db, sent.messageId))!.restrictions).toBe('do-not-forward');
    const open = await send('open');
    const openReply = await reply(open.messageId, open.view);
    expect((await getMessage(ctx.db, openReply.messageId))!.restrictions).toBe('none');
  });

  it('the wrapper mail says Do Not Forward, in its text part and its HTML part alike', async () => {
    const wrapperOf = async (template: string) => {
      const { sent } = await send(template, { to: ['bob@gmail.com'] });
      for await (const w of sent.wrappers) return simpleParser(w.raw);
      throw new Error('no wrapper');
    };
    const dnf = await wrapperOf('dnf');
    const SAYS = 'Do Not Forward: this message cannot be forwarded or printed, and replies go only to the sender and its recipients.';
    expect(dnf.text).toContain(SAYS);
    expect(String(dnf.html)).toContain(SAYS);
    const open = await wrapperOf('open');
    expect(open.text).not.toContain('Do Not Forward');
    expect(String(open.html)).not.toContain('Do Not Forward');
  });
});

describe('the server enforces Do Not Forward', () => {
  it('refuses a forward (403) even where the template allows forwarding, and records the refusal', async () => {
    const { messageId, raw } = await send('dnf');
    const message = (await getMessage(ctx.db, messageId))!;
    const forward = sendForward({
      ctx,
      tenant,
      original: { message, mime: raw },
      from: 'bob@gmail.com',
      to: 'eve@evil.example',
      note: 'psst',
    });
    expect(await errorCode(forward)).toBe('FORBIDDEN');
    expect((await refusals(messageId)).map((e) => [e.actor, JSON.parse(e.data!)])).toEqual([
      ['bob@gmail.com', { action: 'forward', restrictions: 'do-not-forward' }],
    ]);
    // Nothing was sent: the only messages in its conversation are none.
    expect(await ctx.db.selectFrom('messages').select('id').where('in_reply_to', '=', messageId).execute()).toEqual([]);
  });

  it('refuses a reply that adds an address (403, recorded); the original sender and recipients are fine', async () => {
    const { messageId, view } = await send('dnf');
    for (const added of [['eve@evil.example'], ['carol@yahoo.com', 'eve@evil.example'], ['not an address']])
      expect(await errorCode(reply(messageId, view, added))).toBe('FORBIDDEN');
    expect(await refusals(messageId)).toHaveLength(3);
    expect(JSON.parse((await refusals(messageId))[0]!.data!)).toEqual({ action: 'reply_recipients', restrictions: 'do-not-forward' });
    expect(await ctx.db.selectFrom('messages').select('id').where('in_reply_to', '=', messageId).execute()).toEqual([]);
    const sent = await reply(messageId, view, ['Carol@Yahoo.com', `alice@${tenant.mail_domain}`]);
    expect((await listRecipients(ctx.db, sent.messageId)).map((r) => r.address).sort()).toEqual([
      `alice@${tenant.mail_domain}`,
      'carol@yahoo.com',
    ]);
  });

  it('Reply all goes only to addresses the message was really sent to, not to whom its headers name', async () => {
    // Relayed: the headers name Carol, but the message went only to Bob.
    const { messageId, view } = await send('dnf', { envelopeRecipients: ['bob@gmail.com'] });
    const sent = await reply(messageId, view);
    expect((await listRecipients(ctx.db, sent.messageId)).map((r) => r.address)).toEqual([`alice@${tenant.mail_domain}`]);
  });

  it('an Encrypt-Only message behaves as before: Reply all reaches everyone named, an added address is ignored, forwarding works', async () => {
    const { messageId, view, raw } = await send('open');
    const sent = await reply(messageId, view, ['eve@evil.example']);
    expect((await listRecipients(ctx.db, sent.messageId)).map((r) => r.address).sort()).toEqual([
      `alice@${tenant.mail_domain}`,
      'carol@yahoo.com',
    ]);
    const message = (await getMessage(ctx.db, messageId))!;
    const forwarded = await sendForward({
      ctx,
      tenant,
      original: { message, mime: raw },
      from: 'bob@gmail.com',
      to: 'ned@example.org',
      note: '',
    });
    expect(forwarded.recipients).toEqual(['ned@example.org']);
    expect(await refusals(messageId)).toEqual([]);
  });
});

describe('the watermarked body', () => {
  const HOSTILE = `"</style><script>alert(1)</script><img src=x onerror=alert(2)>" <a&b'c@evil.example> ${'}body{display:none}'}`;

  it("escapes the reader's address: no markup or CSS of theirs reaches the document", async () => {
    const response = await messageBodyResponse({
      html: '<p>Body</p>',
      allowRemoteImages: false,
      restriction: { watermark: HOSTILE, printNotice: 'Not printed <b>here</b>' },
    });
    const doc = await response.text();
    expect(doc).not.toContain('<script');
    expect(doc).not.toContain('<img');
    expect(doc).not.toContain('</style><script');
    expect(doc).not.toContain('<b>here');
    expect(doc).toContain('&lt;/style&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(doc).toContain('Not printed &lt;b&gt;here&lt;/b&gt;');
    // Exactly one stylesheet, ours, and the hostile "}body{…}" only as text.
    expect(doc.match(/<style>/g)).toHaveLength(1);
    expect(doc.split('</style>')[0]).not.toContain('display:none}body');
    expect(doc).toContain('@media print{body>*{display:none!important}body>.sp-print-notice{display:block!important');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('is there only for a restricted message, and names the reader and the minute', async () => {
    const plain = await (await messageBodyResponse({ html: '<p>Body</p>', allowRemoteImages: false })).text();
    expect(plain).not.toContain('sp-watermark');
    expect(plain).not.toContain('@media print');
    expect(watermarkText({ address: 'bob@gmail.com', now: Date.UTC(2026, 11, 3, 14, 30, 59) })).toBe(
      'bob@gmail.com · 2026-12-03 14:30 UTC',
    );
  });
});
