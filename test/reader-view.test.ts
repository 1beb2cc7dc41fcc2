import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecipientSession } from '@/lib/auth/recipient-session';
import { revokeMessage } from '@/lib/envelope/revoke-message';
import { sendMessage } from '@/lib/messages/send-message';
import { readReaderView } from '@/lib/portal/read-reader-view';
import { runHousekeeping } from '@/lib/server/housekeeping';
import { holdEnvelope } from '@/lib/store/held-envelopes';
import { listRecipients } from '@/lib/store/messages';
import type { TTenant } from '@/lib/tenants/tenants';
import { createTestContext, seedTenant, type TTestContext } from './helpers/context';
import { readStoredEnvelope } from './helpers/stored-envelope';

let ctx: TTestContext;
let tenant: TTenant;
beforeAll(async () => {
  ctx = await createTestContext();
  tenant = await seedTenant(ctx);
});
afterAll(() => ctx?.close());

const HTML_EML = (subject: string) =>
  Buffer.from(
    [
      'From: Alice <alice@acme.example>',
      'To: bob@gmail.com',
      `Subject: ${subject}`,
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Balance <b>1,234.56</b></p><script>alert(1)</script><img src="https://tracker.example/p.gif">',
      '',
    ].join('\r\n'),
  );

async function newMessage(subject: string) {
  const { messageId } = await sendMessage({ ctx, tenant, raw: HTML_EML(subject), deliver: false });
  const [recipient] = await listRecipients(ctx.db, messageId);
  const { value } = await createRecipientSession({
    ctx,
    tenant,
    session: { messageId, recipientId: recipient!.id, address: 'bob@gmail.com', isKept: false },
  });
  return { messageId, session: value };
}

const read = (messageId: string, session: string, allowRemoteImages = false, now?: number) =>
  readReaderView({ ctx, tenant, messageId, sessionValue: session, allowRemoteImages, now });
const rows = (messageId: string) => ctx.db.selectFrom('reader_views').selectAll().where('message_id', '=', messageId).execute();

describe("the reader's view, rendered once", () => {
  it('the first view renders and stores it sealed; later views are served without opening the envelope', async () => {
    const { messageId, session } = await newMessage('Statement view-once');
    const first = await read(messageId, session);
    expect(first.view.subject).toBe('Statement view-once');
    expect(first.view.html).toContain('<b>1,234.56</b>');
    expect(first.view.html).not.toContain('script');
    const stored = await rows(messageId);
    expect(stored).toHaveLength(1);
    const bytes = Buffer.from(stored[0]!.sealed).toString('latin1');
    expect(bytes).not.toContain('view-once');
    expect(bytes).not.toContain('1,234.56');
    // The envelope made unreadable: only the stored view can still answer.
    await ctx.db.updateTable('messages').set({ envelope: 'not-an-envelope' }).where('id', '=', messageId).execute();
    const second = await read(messageId, session);
    expect(second.view).toEqual(first.view);
  });

  it('remote images shown or not are two views of their own', async () => {
    const { messageId, session } = await newMessage('Images');
    const blocked = await read(messageId, session, false);
    const shown = await read(messageId, session, true);
    expect(blocked.view.html).toContain('data-sealpost-blocked');
    expect(shown.view.html).toContain('https://tracker.example/p.gif');
    expect((await rows(messageId)).map((r) => r.variant).sort()).toEqual(['images', 'plain']);
  });

  it('a view rendered by another sanitiser version is rendered again, never served', async () => {
    const { messageId, session } = await newMessage('Upgrade');
    await read(messageId, session);
    const [before] = await rows(messageId);
    await ctx.db.updateTable('reader_views').set({ version: '0.old' }).where('message_id', '=', messageId).execute();
    const again = await read(messageId, session);
    expect(again.view.subject).toBe('Upgrade');
    const [after] = await rows(messageId);
    expect(after!.version).toBe(before!.version);
    expect(Buffer.from(after!.sealed).equals(Buffer.from(before!.sealed))).toBe(false);
  });

  it("a view copied onto another message does not open there (bound to that message's own key)", async () => {
    const a = await newMessage('Message A secret');
    const b = await newMessage('Message B');
    await read(a.messageId, a.session);
    await read(b.messageId, b.session);
    const [viewOfA] = await rows(a.messageId);
    await ctx.db.updateTable('reader_views').set({ sealed: viewOfA!.sealed }).where('message_id', '=', b.messageId).execute();
    const readB = await read(b.messageId, b.session);
    expect(readB.view.subject).toBe('Message B');
  });

  it('revocation deletes the views and nothing is served after it', async () => {
    const { messageId, session } = await newMessage('Revoke me');
    await read(messageId, session);
    await read(messageId, session, true);
    await revokeMessage({ db: ctx.db, messageId });
    expect(await rows(messageId)).toEqual([]);
    await expect(read(messageId, session)).rejects.toMatchObject({ code: 'ENVELOPE_REVOKED' });
  });

  it('a message the server keeps no copy of: its view lives only as long as the held envelope', async () => {
    const { messageId, session } = await newMessage('No copy');
    // As for a template that delivers by attachment only: the server holds the envelope only
    // while a reader who posted it from message.html signs in and reads.
    const envelope = await readStoredEnvelope(ctx.db, messageId);
    await ctx.db.updateTable('messages').set({ envelope: null }).where('id', '=', messageId).execute();
    await expect(read(messageId, session)).rejects.toMatchObject({ code: 'ENVELOPE_INVALID' });
    const t0 = Date.now();
    await holdEnvelope({ db: ctx.db, messageId, envelope: envelope!, now: t0 });
    const viewed = await read(messageId, session, false, t0 + 1000);
    expect(viewed.view.subject).toBe('No copy');
    const [row] = await rows(messageId);
    expect(Number(row!.expires_at)).toBe(t0 + 60 * 60_000);
    // After the hold: not served, and gone at the next housekeeping.
    await expect(read(messageId, session, false, t0 + 60 * 60_000 + 1)).rejects.toMatchObject({ code: 'ENVELOPE_INVALID' });
    await runHousekeeping({ ctx, now: t0 + 60 * 60_000 + 1 });
    expect(await rows(messageId)).toEqual([]);
  });
});
