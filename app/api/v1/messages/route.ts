import { AppError } from '@/lib/errors';
import { apiRoute } from '@/lib/http/api-route';
import { readLimitedBody } from '@/lib/http/read-limited-body';
import { sendMessage } from '@/lib/messages/send-message';
import { tenantHost } from '@/lib/tenants/tenants';

export const runtime = 'nodejs';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

// POST /api/v1/messages – encrypt a raw RFC 5322 message and queue a wrapper per recipient
export const POST = apiRoute(
  async ({ request, ctx, tenant }) => {
    // On a tenant host, the key must be that tenant's: a key never acts for another tenant.
    const host = (request.headers.get('host') ?? '').toLowerCase().replace(/:\d+$/, '');
    if (host.endsWith(`.${ctx.config.SEALPOST_BASE_DOMAIN}`) && host !== tenantHost(ctx.config, tenant)) {
      throw new AppError('FORBIDDEN', 'This API key belongs to another tenant');
    }
    const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'message/rfc822') throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the message as Content-Type: message/rfc822');
    const idempotencyKey = request.headers.get('idempotency-key') ?? undefined;
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new AppError('BAD_REQUEST', 'Idempotency-Key must be 1–200 visible ASCII characters');
    }
    const raw = await readLimitedBody({ request, maxBytes: ctx.config.SEALPOST_MAX_MESSAGE_BYTES });
    const sent = await sendMessage({ ctx, tenant, raw, idempotencyKey });
    return Response.json(
      { messageId: sent.messageId, recipients: sent.recipients, rejected: sent.rejected, replayed: sent.isReplay },
      { status: 202 },
    );
  },
  { route: 'POST /api/v1/messages' },
);
