import { NextResponse, type NextRequest } from 'next/server';

// Next.js 16 names the file that the SPEC calls middleware.ts `proxy.ts` (same role, Node runtime).
// It sets security headers on every response, keeps the internal tenant tree unreachable from
// outside, and sends every request for a tenant host into that tree. Which tenant a host is, and
// whether the caller may see anything, is decided again in each page and handler: the proxy is
// never the only gate.
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
// Marks the proxy's own rewrites (Next runs the proxy again on them); unguessable from outside.
const REWRITE_MARK = crypto.randomUUID();
const BASE_DOMAIN = (process.env.SEALPOST_BASE_DOMAIN || 'localhost').toLowerCase();

// The operator's own host (and loopback addresses) serve the app itself: home, API, mailbox.
const isBaseHost = (host: string) => host === BASE_DOMAIN || host === '127.0.0.1' || host === '[::1]' || host === 'localhost';

function route(request: NextRequest): NextResponse {
  const path = request.nextUrl.pathname;
  if (request.headers.get('x-sealpost-rewrite') === REWRITE_MARK) return NextResponse.next();
  // The internal tree, and the header behind CVE-2025-29927's middleware bypass: never from outside.
  if (path === '/t' || path.startsWith('/t/') || request.headers.has('x-middleware-subrequest')) {
    return new NextResponse('Not found', { status: 404 });
  }
  const host = (request.headers.get('host') ?? '').toLowerCase().replace(/:\d{1,5}$/, '');
  if (path.startsWith('/api/') || isBaseHost(host)) return NextResponse.next();
  if (!HOSTNAME.test(host)) return new NextResponse('Not found', { status: 404 });
  const url = request.nextUrl.clone();
  url.pathname = `/t/${host}${path === '/' ? '' : path}`;
  const headers = new Headers(request.headers);
  headers.set('x-sealpost-rewrite', REWRITE_MARK);
  return NextResponse.rewrite(url, { request: { headers } });
}

export function proxy(request: NextRequest) {
  const response = route(request);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  if (request.nextUrl.protocol === 'https:' || request.headers.get('x-forwarded-proto') === 'https') {
    response.headers.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
  }
  return response;
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
