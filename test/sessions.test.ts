import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRecipientSession,
  endRecipientSession,
  readRecipientSession,
  SESSION_IDLE_MS,
  SESSION_MAX_AGE_S,
} from '@/lib/auth/recipient-session';
import { decode } from 'next-auth/jwt';
import { deriveKey } from '@/lib/envelope/aead';
import { addTenantKeyVersion, getTenantKey, KEY_GRACE_MS } from '@/lib/envelope/tenant-keys';
import { buildQueuedWrapper } from '@/lib/messages/build-queued-wrapper';
import { listOwnReplies, sendCopy } from '@/lib/messages/conversation';
import { sendMessage } from '@/lib/messages/send-message';
import { canReplyNow, sendReply } from '@/lib/messages/send-reply';
import { toMessageView } from '@/lib/messages/to-message-view';
import { openForReader } from '@/lib/portal/open-for-reader';
import { collectMail } from '@/lib/mail/mail-source';
import { listRecipients } from '@/lib/store/messages';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';

let ctx: TTestContext;
let tenant: TTenant;
beforeAll(async () => {
  ctx = await createTestContext();
  tenant = await seedTenant(ctx);
});
afterAll(() => ctx?.close());

async function newMessage(to = ['bob@gmail.com', 'carol@yahoo.com']) {
  const { messageId } = await sendMessage({ ctx, tenant, raw: sampleEml({ to }), deliver: false });
  const recipients = await listRecipients(ctx.db, messageId);
  return { messageId, recipients };
}

async function signIn(messageId: string, address: string, { isKept = false, now = Date.now() } = {}) {
  const { recipients } = { recipients: await listRecipients(ctx.db, messageId) };
  const recipient = recipients.find((r) => r.address === address)!;
  const cookie = await createRecipientSession({ ctx, tenant, session: { messageId, recipientId: recipient.id, address, isKept }, now });
  return cookie;
}

const read = (value: string, now: number) => readRecipientSession({ ctx, tenant, value, now });

describe('recipient sessions', () => {
  it('end after an idle hour, and activity slides the hour', async () => {
    const { messageId } = await newMessage();
    const t0 = Date.now();
    const { value, maxAge } = await signIn(messageId, 'bob@gmail.com', { now: t0 });
    expect(maxAge, 'a browser-session cookie without "keep me signed in"').toBeUndefined();
    expect(await read(value, t0 + SESSION_IDLE_MS - 1000)).toMatchObject({ messageId, address: 'bob@gmail.com', isKept: false });
    // Read at 59 min: the hour starts again from there.
    expect(await read(value, t0 + 2 * SESSION_IDLE_MS - 2000)).not.toBeNull();
    expect(await read(value, t0 + 3 * SESSION_IDLE_MS)).toBeNull();
  });

  it('an idle session is refused', async () => {
    const { messageId } = await newMessage();
    const t0 = Date.now();
    const { value } = await signIn(messageId, 'carol@yahoo.com', { now: t0 });
    expect(await read(value, t0 + SESSION_IDLE_MS + 1000)).toBeNull();
  });

  it('"keep me signed in" lasts 12 hours however idle, and not a minute more', async () => {
    const { messageId } = await newMessage();
    const t0 = Date.now();
    const { value, maxAge } = await signIn(messageId, 'bob@gmail.com', { isKept: true, now: t0 });
    expect(maxAge).toBe(SESSION_MAX_AGE_S);
    expect(await read(value, t0 + 11 * 3_600_000)).toMatchObject({ isKept: true });
    expect(await read(value, t0 + SESSION_MAX_AGE_S * 1000)).toBeNull();
  });

  it('no session outlives 12 hours, however active', async () => {
    const { messageId } = await newMessage();
    const t0 = Date.now();
    const { value } = await signIn(messageId, 'bob@gmail.com', { now: t0 });
    for (let h = 0.5; h < 12; h += 0.5) expect(await read(value, t0 + h * 3_600_000)).not.toBeNull();
    expect(await read(value, t0 + 12 * 3_600_000)).toBeNull();
  });

  it('sign-out ends the session on the server: the same cookie no longer works', async () => {
    const { messageId } = await newMessage();
    const { value } = await signIn(messageId, 'bob@gmail.com');
    expect(await read(value, Date.now())).not.toBeNull();
    await endRecipientSession({ ctx, tenant, value });
    expect(await read(value, Date.now())).toBeNull();
  });

  it("refuses another tenant's cookie, a tampered cookie and none", async () => {
    const { messageId } = await newMessage();
    const { value } = await signIn(messageId, 'bob@gmail.com');
    const other = await seedTenant(ctx, { slug: `other${Date.now()}`, mailDomain: 'other.example' });
    expect(await readRecipientSession({ ctx, tenant: other, value })).toBeNull();
    expect(await read(`${value.slice(0, -3)}AAA`, Date.now())).toBeNull();
    expect(await read('', Date.now())).toBeNull();
    expect(await read('x'.repeat(5000), Date.now())).toBeNull();
  });
});

describe('session secrets rotate with the tenant key', () => {
  const HOUR = 3_600_000;
  // Its own tenant each time: rotations must not touch the other suites' tenant.
  async function keptSession(now: number) {
    const t = await seedTenant(ctx);
    const { messageId } = await sendMessage({
      ctx,
      tenant: t,
      raw: sampleEml({ to: ['bob@gmail.com'], from: `Alice <alice@${t.mail_domain}>` }),
      deliver: false,
    });
    const [recipient] = await listRecipients(ctx.db, messageId);
    const make = (at: number) =>
      createRecipientSession({
        ctx,
        tenant: t,
        session: { messageId, recipientId: recipient!.id, address: 'bob@gmail.com', isKept: true },
        now: at,
      });
    const readAt = (value: string, at: number) => readRecipientSession({ ctx, tenant: t, value, now: at });
    const secretOf = async (version: number) =>
      deriveKey((await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: t.id, version })).key, 'recipient-session').toString(
        'base64url',
      );
    return { t, cookie: await make(now), make, readAt, secretOf };
  }
  const decodesUnder = (value: string, secret: string) =>
    decode({ token: value, secret }).then(
      (p) => p !== null,
      () => false,
    );

  it('a cookie made before `keys rotate` still works after it, and a new cookie is made under the new version only', async () => {
    const t0 = Date.now();
    const { t, cookie, make, readAt, secretOf } = await keptSession(t0);
    expect(await decodesUnder(cookie.value, await secretOf(1))).toBe(true);
    await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId: t.id, now: t0 + HOUR });
    expect(await readAt(cookie.value, t0 + 2 * HOUR)).toMatchObject({ address: 'bob@gmail.com', isKept: true });
    const fresh = await make(t0 + 2 * HOUR);
    expect(await decodesUnder(fresh.value, await secretOf(2))).toBe(true);
    expect(await decodesUnder(fresh.value, await secretOf(1)), "the old version's secret no longer makes cookies").toBe(false);
    expect(await readAt(fresh.value, t0 + 2 * HOUR)).not.toBeNull();
  });

  it('an old-version cookie stops working once its version has been retired for the grace, though its session is live', async () => {
    const t0 = Date.now();
    const { t, cookie, readAt } = await keptSession(t0);
    // The rotation dated so that the grace ends while the kept session (12 hours) still runs.
    await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId: t.id, now: t0 - KEY_GRACE_MS + HOUR });
    expect(await readAt(cookie.value, t0 + HOUR - 1000)).not.toBeNull();
    expect(await readAt(cookie.value, t0 + HOUR)).toBeNull();
  });

  it('after two rotations each older version is read for the grace after it was retired, and no longer', async () => {
    const t0 = Date.now();
    const { t, cookie, make, readAt } = await keptSession(t0);
    // Version 1 retired 11 hours ago, version 2 (with a cookie of its own) 9 hours ago.
    await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId: t.id, now: t0 - KEY_GRACE_MS + HOUR });
    const second = await make(t0 + 1000);
    await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId: t.id, now: t0 - KEY_GRACE_MS + 3 * HOUR });
    expect(await readAt(cookie.value, t0 + HOUR - 1000)).not.toBeNull();
    expect(await readAt(second.value, t0 + HOUR - 1000)).not.toBeNull();
    expect(await readAt(cookie.value, t0 + HOUR)).toBeNull();
    expect(await readAt(second.value, t0 + HOUR)).not.toBeNull();
    expect(await readAt(second.value, t0 + 3 * HOUR)).toBeNull();
  });
});

describe("the reader's replies", () => {
  async function reply(messageId: string, from: string, { sendCopy: copy = false } = {}) {
    const { value } = await signIn(messageId, from);
    const opened = await openForReader({ ctx, tenant, messageId, sessionValue: value });
    const view = await toMessageView({ mime: opened.mime, attachmentUrl: (i) => String(i) });
    const sent = await sendReply({
      ctx,
      tenant,
      original: { messageId, view },
      from,
      isReplyAll: true,
      sendCopy: copy,
      body: 'My reply',
      attachments: [],
    });
    return { session: value, replyId: sent.messageId };
  }

  it('are threaded under the message and listed for their sender only', async () => {
    const { messageId } = await newMessage();
    const { replyId } = await reply(messageId, 'bob@gmail.com');
    const message = (await ctx.db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirst())!;
    const stored = (await ctx.db.selectFrom('messages').selectAll().where('id', '=', replyId).executeTakeFirst())!;
    expect(stored).toMatchObject({ in_reply_to: messageId, thread_id: messageId, sender: 'bob@gmail.com' });
    const bobs = await listOwnReplies({ ctx, message, address: 'bob@gmail.com' });
    expect(bobs.map((r) => r.id)).toEqual([replyId]);
    expect(bobs[0]!.recipients).toEqual(['alice@acme.example', 'carol@yahoo.com']);
    expect(await listOwnReplies({ ctx, message, address: 'carol@yahoo.com' })).toEqual([]);
  });

  it("open in the sender's session, and in no one else's", async () => {
    const { messageId } = await newMessage();
    const { session, replyId } = await reply(messageId, 'bob@gmail.com');
    const opened = await openForReader({ ctx, tenant, messageId: replyId, sessionValue: session });
    expect(Buffer.from(opened.mime).toString()).toContain('My reply');
    const carol = (await signIn(messageId, 'carol@yahoo.com')).value;
    await expect(openForReader({ ctx, tenant, messageId: replyId, sessionValue: carol })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Bob's session for another conversation does not reach this reply either.
    const elsewhere = await newMessage(['bob@gmail.com']);
    const bobElsewhere = (await signIn(elsewhere.messageId, 'bob@gmail.com')).value;
    await expect(openForReader({ ctx, tenant, messageId: replyId, sessionValue: bobElsewhere })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('"Send me a copy" queues an encrypted wrapper of the reply to its sender, who can sign in with it', async () => {
    const { messageId } = await newMessage();
    const { session, replyId } = await reply(messageId, 'bob@gmail.com');
    const opened = await openForReader({ ctx, tenant, messageId: replyId, sessionValue: session });
    await sendCopy({ ctx, tenant, message: opened.message, mime: Buffer.from(opened.mime), address: 'bob@gmail.com' });
    const row = (await ctx.db
      .selectFrom('outbox')
      .selectAll()
      .where('message_id', '=', replyId)
      .where('rcpt_to', '=', 'bob@gmail.com')
      .executeTakeFirst())!;
    const key = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id, version: row.key_version });
    // Queued without its body; the worker builds it, with Bob's own link, when it sends it.
    expect(row.recipient_id).not.toBeNull();
    expect(Buffer.from(row.payload!).toString('latin1')).not.toContain('Your statement');
    const built = await buildQueuedWrapper({ ctx, row, tenantKey: key });
    if (built.kind !== 'built') throw new Error(`wrapper not built: ${built.reason}`);
    const raw = await collectMail(built.mail);
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('Re: Your statement');
    expect(mail.messageId).toBe(row.smtp_message_id);
    expect(String(mail.html)).toMatch(/\/r\//);
    expect(raw.toString('latin1')).not.toContain('My reply');
    expect((await listRecipients(ctx.db, replyId)).find((r) => r.address === 'bob@gmail.com')?.kind).toBe('copy');
    // Only of one's own replies: not of the message one received.
    const original = await openForReader({ ctx, tenant, messageId, sessionValue: session });
    await expect(
      sendCopy({ ctx, tenant, message: original.message, mime: Buffer.from(original.mime), address: 'bob@gmail.com' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('are limited to 30 an hour per reader: the 31st reply within the hour is refused, and nothing of it is stored', async () => {
    const own = await seedTenant(ctx);
    const raw = sampleEml({ to: ['bob@gmail.com', 'carol@yahoo.com'], from: `Alice <alice@${own.mail_domain}>` });
    const { messageId } = await sendMessage({ ctx, tenant: own, raw, deliver: false });
    const bob = (await listRecipients(ctx.db, messageId)).find((r) => r.address === 'bob@gmail.com')!;
    const { value } = await createRecipientSession({
      ctx,
      tenant: own,
      session: { messageId, recipientId: bob.id, address: bob.address, isKept: false },
    });
    const opened = await openForReader({ ctx, tenant: own, messageId, sessionValue: value });
    const view = await toMessageView({ mime: opened.mime, attachmentUrl: (i) => String(i) });
    const t0 = Date.now();
    const send = (from: string, now: number) =>
      sendReply({ ctx, tenant: own, original: { messageId, view }, from, isReplyAll: false, body: 'Thanks', attachments: [], now });
    for (let i = 0; i < 30; i += 1) await send('bob@gmail.com', t0 + i);
    const replies = () => ctx.db.selectFrom('messages').select('id').where('in_reply_to', '=', messageId).execute();
    expect(await replies()).toHaveLength(30);
    // The form says so first; the 31st is refused, and nothing of it is stored.
    await expect(canReplyNow({ ctx, tenant: own, from: 'bob@gmail.com', now: t0 + 30 })).resolves.toBe(false);
    await expect(send('bob@gmail.com', t0 + 30)).rejects.toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(await replies()).toHaveLength(30);
    await expect(canReplyNow({ ctx, tenant: own, from: 'carol@yahoo.com', now: t0 + 30 })).resolves.toBe(true);
    // Per reader: another recipient of the same message still replies; Bob again once the hour has passed.
    await expect(send('carol@yahoo.com', t0 + 31)).resolves.toMatchObject({ isReplay: false });
    await expect(send('bob@gmail.com', t0 + 60 * 60_000 + 1)).resolves.toMatchObject({ isReplay: false });
  });

  it('a copy can be asked for when replying', async () => {
    const { messageId } = await newMessage();
    const { replyId } = await reply(messageId, 'carol@yahoo.com', { sendCopy: true });
    const outbox = await ctx.db.selectFrom('outbox').select(['rcpt_to']).where('message_id', '=', replyId).orderBy('rcpt_to').execute();
    expect(outbox.map((r) => r.rcpt_to)).toEqual(['alice@acme.example', 'bob@gmail.com', 'carol@yahoo.com']);
  });
});
