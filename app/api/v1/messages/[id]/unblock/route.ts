import { unblockRecipient } from '@/lib/auth/passcodes/recipient-block';
import { AppError } from '@/lib/errors';
import { apiRoute } from '@/lib/http/api-route';
import { readLimitedBody } from '@/lib/http/read-limited-body';
import { getMessage } from '@/lib/store/messages';

export const runtime = 'nodejs';

// POST /api/v1/messages/<id>/unblock – the sender lets a recipient who hit the hard stop on wrong
// passcodes try again; body {"address": "<recipient>"}
export const POST = apiRoute<{ id: string }>(
  async ({ request, params: { id }, ctx, tenant }) => {
    const message = /^[0-9a-f-]{36}$/.test(id) ? await getMessage(ctx.db, id) : undefined;
    // Another tenant's message is as unknown as a missing one.
    if (!message || message.tenant_id !== tenant.id) throw new AppError('NOT_FOUND', 'No such message');
    let address: unknown;
    try {
      address = (JSON.parse((await readLimitedBody({ request, maxBytes: 4096 })).toString('utf8')) as { address?: unknown }).address;
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('BAD_REQUEST', 'Send {"address": "<recipient>"} as JSON');
    }
    if (typeof address !== 'string') throw new AppError('BAD_REQUEST', 'Send {"address": "<recipient>"} as JSON');
    const result = await unblockRecipient({ db: ctx.db, messageId: message.id, address, actor: 'api' });
    return Response.json({ messageId: message.id, ...result });
  },
  { route: 'POST /api/v1/messages/[id]/unblock' },
);
