import { maxEnvelopeChars } from '@/lib/envelope/envelope';
import { openMessage } from '@/lib/envelope/open-message';
import { readRecipientToken } from '@/lib/envelope/recipient-token';
import { acceptPostedEnvelope } from '@/lib/portal/accept-posted-envelope';
import type { TContext } from '@/lib/server/context';
import type { TTenant } from '@/lib/tenants/tenants';
import type { TReceivedMail } from './smtp-sink';

export type OpenWrapperOptions = { ctx: TContext; tenant: TTenant; mail: TReceivedMail };

// What a recipient's mail client does with a wrapper: message.html's envelope and recipient token
// go through the portal's own check, and the envelope opens to the sealed original MIME.
export async function openWrapper({ ctx, tenant, mail }: OpenWrapperOptions) {
  const html = mail.parsed.attachments.find((a) => a.filename === 'message.html')?.content.toString('utf8') ?? '';
  const rt = /name="rt" value="([^"]+)"/.exec(html)?.[1];
  const envelope = /name="envelope" value="([^"]+)"/.exec(html)?.[1];
  if (!rt || !envelope) throw new Error('no message.html with an envelope in the mail');
  const token = await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: rt });
  const claims = await acceptPostedEnvelope({ ctx, tenant, envelope, claims: token });
  const opened = await openMessage({
    db: ctx.db,
    master: ctx.master,
    tenantId: tenant.id,
    token: envelope,
    maxChars: maxEnvelopeChars(ctx.config.SEALPOST_MAX_MESSAGE_BYTES),
  });
  return { claims, mime: Buffer.from(opened.mime) };
}
