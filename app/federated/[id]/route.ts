import type { NextRequest } from 'next/server';
import { continueToProvider } from '@/lib/auth/federated/auth-host-routes';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /federated/<id> on the auth host – take the sign-in over, move on to the provider
export async function GET(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  return continueToProvider({ request, id: (await params).id });
}
