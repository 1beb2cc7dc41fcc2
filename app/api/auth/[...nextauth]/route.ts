import type { NextRequest } from 'next/server';
import { handleProviderCallback } from '@/lib/auth/federated/auth-host-routes';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/auth/callback/<provider> on the auth host – each provider's one redirect URI
export async function GET(request: NextRequest, { params }: { params: Promise<{ nextauth: string[] }> }) {
  return handleProviderCallback({ request, segments: (await params).nextauth });
}
