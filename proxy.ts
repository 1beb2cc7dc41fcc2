import { NextResponse, type NextRequest } from 'next/server';

// Next.js 16 names the file that the SPEC calls middleware.ts `proxy.ts` (same role, Node runtime).
// Here: security headers on every response, and the internal tenant tree is never reachable
// directly. Host → tenant resolution and the per-request CSP nonce come with the portal pages;
// every handler still authorizes on its own, the proxy is never the only gate.
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

export function proxy(request: NextRequest) {
  const path = request.nextUrl.pathname;
  const response = path === '/t' || path.startsWith('/t/') ? new NextResponse('Not found', { status: 404 }) : NextResponse.next();
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  if (request.nextUrl.protocol === 'https:' || request.headers.get('x-forwarded-proto') === 'https') {
    response.headers.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
  }
  return response;
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
