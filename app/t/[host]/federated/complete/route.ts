import { completeFederatedSignIn } from '@/lib/auth/federated/complete-federated-signin';
import { isAppError } from '@/lib/errors';
import { NextResponse } from 'next/server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /federated/complete – take the auth host's single-use hand-off, start the reader's session
export async function GET(request: Request, { params }: { params: Promise<{ host: string }> }) {
  try {
    return await completeFederatedSignIn({ request, host: (await params).host });
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') return new NextResponse('Not found', { status: 404 });
    throw error;
  }
}
