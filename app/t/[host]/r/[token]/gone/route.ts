import { NextResponse } from 'next/server';
import { isAppError } from '@/lib/errors';
import { landingStateResponse } from '@/lib/portal/landing-state-response';

export const runtime = 'nodejs';

// GET /r/<token>/gone – a revoked, expired or damaged link's page, with its status
export async function GET(request: Request, { params }: { params: Promise<{ host: string; token: string }> }) {
  const { host, token } = await params;
  try {
    return await landingStateResponse({ request, host, token });
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') return new NextResponse('Not found', { status: 404 });
    throw error;
  }
}
