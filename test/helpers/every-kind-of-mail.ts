import { requestPasscode } from '@/lib/auth/passcodes/request-passcode';
import { processOutboxBatch } from '@/lib/mail/outbox-worker';
import type { TMailTransport } from '@/lib/mail/transport';
import { sendCopy } from '@/lib/messages/conversation';
import { sendMessage } from '@/lib/messages/send-message';
import { getMessage } from '@/lib/store/messages';
import type { TTenant } from '@/lib/tenants/tenants';
import type { TLanguage } from '@/lib/templates/schema';
import { setBranding } from '@/lib/templates/set-branding';
import type { TTestContext } from './context';
import { sampleEml } from './context';
import type { TReceivedMail, TSmtpSink } from './smtp-sink';

export const MAIL_KINDS = [
  'wrapper',
  'wrapper-subject-hidden',
  'wrapper-logo',
  'wrapper-do-not-forward',
  'passcode',
  'reply',
  'forward',
  'reply-no-reply-to',
  'reply-company-reader',
  'copy',
  'bounce-notice',
] as const;
export type TMailKind = (typeof MAIL_KINDS)[number];

// Delivers everything due, as the worker's loop would (a bounce queues a notice: a second pass).
export async function drainOutbox(ctx: TTestContext, transport: TMailTransport, now?: number) {
  for (let i = 0; i < 10; i += 1) if ((await processOutboxBatch({ ctx, transport, now })).claimed === 0) return;
}

// One pass of the worker against a server that answers every mail with `code`.
export async function deliverRefused(ctx: TTestContext, transport: TMailTransport, sink: TSmtpSink, code: number, now?: number) {
  sink.failWith = code;
  try {
    return await processOutboxBatch({ ctx, transport, now });
  } finally {
    sink.failWith = null;
  }
}

const replyEml = ({
  to,
  subject,
  text,
  from = 'Bob Reader <bob@gmail.com>',
}: {
  to: string;
  subject: string;
  text: string;
  from?: string;
}) =>
  Buffer.from(
    [
      `From: ${from}`,
      `To: ${to}`,
      `Subject: ${subject}`,
      'Date: Tue, 24 Nov 2026 09:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '',
    ].join('\r\n'),
  );

export type ProduceEveryKindOptions = {
  ctx: TTestContext;
  tenant: TTenant;
  sink: TSmtpSink;
  transport: TMailTransport;
  language: TLanguage;
};

// One of every kind of mail Sealpost writes, sent through the real outbox worker to the sink,
// each made the way the product makes it (sendMessage, requestPasscode, a reader's reply and
// forward, "send me a copy", a 550 answered to a wrapper). A reply or forward by a reader at a
// free-mail provider carries Reply-To them (`reply`, `forward`), unless the template turns that off
// (`reply-no-reply-to`); `reply-company-reader` is a reader on a company's own domain.
export async function produceEveryKindOfMail({ ctx, tenant, sink, transport, language }: ProduceEveryKindOptions) {
  const look = { displayName: 'Acme Bank', language, disclaimer: 'Acme Bank, 1 Harbour Road.', privacyUrl: 'https://acme.example/privacy' };
  await setBranding({ db: ctx.db, tenantId: tenant.id, input: { ...look, allowForward: true } });
  await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'hidden', input: { ...look, hideSubject: true } });
  await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'logo', input: { ...look, logo: 'https://acme.example/logo.png' } });
  await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'dnf', input: { ...look, restrictions: 'do-not-forward' } });
  await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'portal-replies', input: { ...look, replyToReader: false } });
  const mails = new Map<TMailKind, TReceivedMail>();
  const take = async (kind: TMailKind, work: () => Promise<unknown>, pick: (m: TReceivedMail) => boolean = () => true) => {
    const before = sink.mails.length;
    await work();
    await drainOutbox(ctx, transport);
    const found = sink.mails.slice(before).find(pick);
    if (!found) throw new Error(`no ${kind} mail arrived`);
    mails.set(kind, found);
  };
  const one = (to: string, subject: string) => sampleEml({ to: [to], subject });
  let first = '';
  await take('wrapper', async () => {
    first = (await sendMessage({ ctx, tenant, raw: one('bob@gmail.com', 'Your statement for November') })).messageId;
  });
  await take('wrapper-subject-hidden', () =>
    sendMessage({ ctx, tenant, raw: one('carol@yahoo.com', 'Loan offer 4471'), template: 'hidden' }),
  );
  let contract = '';
  await take('wrapper-logo', async () => {
    contract = (await sendMessage({ ctx, tenant, raw: one('dave@example.org', 'Your contract'), template: 'logo' })).messageId;
  });
  await take('wrapper-do-not-forward', () =>
    sendMessage({ ctx, tenant, raw: one('frank@example.org', 'Your loan agreement'), template: 'dnf' }),
  );
  await take('passcode', () => requestPasscode({ ctx, tenant, messageId: first, address: 'bob@gmail.com', ip: '192.0.2.10' }));
  let reply = { messageId: '', raw: Buffer.alloc(0) };
  await take('reply', async () => {
    const raw = replyEml({
      to: 'alice@acme.example',
      subject: 'Re: Your statement for November',
      text: 'Thank you, the figures look right.',
    });
    reply = {
      messageId: (await sendMessage({ ctx, tenant, raw, actor: 'bob@gmail.com', replyTo: { messageId: first, from: 'bob@gmail.com' } }))
        .messageId,
      raw,
    };
  });
  await take('forward', () =>
    sendMessage({
      ctx,
      tenant,
      raw: replyEml({ to: 'erin@example.net', subject: 'Fwd: Your statement for November', text: 'For your records.' }),
      actor: 'bob@gmail.com',
      replyTo: { messageId: first, from: 'bob@gmail.com', isForward: true },
    }),
  );
  const portalOnly = (await sendMessage({ ctx, tenant, raw: one('bob@gmail.com', 'Your mortgage offer'), template: 'portal-replies' }))
    .messageId;
  await drainOutbox(ctx, transport);
  await take('reply-no-reply-to', () =>
    sendMessage({
      ctx,
      tenant,
      raw: replyEml({ to: 'alice@acme.example', subject: 'Re: Your mortgage offer', text: 'I accept the offer.' }),
      actor: 'bob@gmail.com',
      replyTo: { messageId: portalOnly, from: 'bob@gmail.com' },
    }),
  );
  await take('reply-company-reader', () =>
    sendMessage({
      ctx,
      tenant,
      raw: replyEml({
        from: 'Dave Client <dave@example.org>',
        to: 'alice@acme.example',
        subject: 'Re: Your contract',
        text: 'Signed and attached.',
      }),
      actor: 'dave@example.org',
      replyTo: { messageId: contract, from: 'dave@example.org' },
    }),
  );
  await take('copy', async () => {
    const message = await getMessage(ctx.db, reply.messageId);
    await sendCopy({ ctx, tenant, message: message!, mime: reply.raw, address: 'bob@gmail.com' });
  });
  await take(
    'bounce-notice',
    async () => {
      await sendMessage({ ctx, tenant, raw: one('gone@example.com', 'Your statement') });
      await deliverRefused(ctx, transport, sink, 550);
    },
    (m) => m.rcptTo[0] === 'alice@acme.example',
  );
  return mails;
}
