import { NextResponse } from 'next/server';
import { isAppError } from '@/lib/errors';
import { messageStateResponse } from '@/lib/portal/message-state-response';

export const runtime = 'nodejs';

// GET /m/<id>/gone – a revoked, expired or no longer held message's page, with its status
export async function GET(request: Request, { params }: { params: Promise<{ host: string; id: string }> }) {
  const { host, id } = await params;
  try {
    return await messageStateResponse({ request, host, messageId: id });
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') return new NextResponse('Not found', { status: 404 });
    throw error;
  }
}
