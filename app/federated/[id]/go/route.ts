import type { NextRequest } from 'next/server';
import { redirectToProvider } from '@/lib/auth/federated/auth-host-routes';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /federated/<id>/go on the auth host – the authorization request, as a redirect
export async function GET(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  return redirectToProvider({ request, id: (await params).id });
}
