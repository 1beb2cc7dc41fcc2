import type { NextRequest } from 'next/server';
import { federatedErrorResponse } from '@/lib/auth/federated/auth-host-routes';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /federated/error on the auth host – a failed sign-in goes back to its message
export async function GET(request: NextRequest) {
  return federatedErrorResponse({ request });
}
