import { NextResponse, type NextRequest } from 'next/server';
import { authOrigin } from './lib/auth/federated/auth-host';
import { getConfig } from './lib/env';
import { isLocalRequest, keepOnlyServerPeerHeaders } from './lib/http/client-address';
import { messageBodyCsp } from './lib/http/message-body-response';

// Next.js 16 names the file that the SPEC calls middleware.ts `proxy.ts` (same role, Node runtime).
// It sets security headers on every response, keeps the internal tenant tree unreachable from
// outside, and sends every request for a tenant host into that tree. Which tenant a host is, and
// whether the caller may see anything, is decided again in each page and handler: the proxy is
// never the only gate.
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};
// Sign-in buttons post to the tenant host, which sends the reader on to the auth host: that step
// of the form's redirect chain must be allowed too (nothing else leaves through a form).
const CONFIG = (() => {
  try {
    return getConfig();
  } catch {
    return null; // the server refuses to start with a bad configuration anyway
  }
})();
const AUTH_ORIGIN = CONFIG ? authOrigin(CONFIG) : null;
// Scripts run only with this request's nonce (Next.js puts it on its own scripts when it finds it
// in the request's policy). Styles may be inline (React style props); images are the portal's
// own, inline, or https (a tenant's logo; the message frame has a stricter policy of its own).
const contentSecurityPolicy = (nonce: string) =>
  [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    `form-action 'self'${AUTH_ORIGIN ? ` ${AUTH_ORIGIN}` : ''}`,
    "object-src 'none'",
  ].join('; ');
const DOWNLOAD_CSP = "default-src 'none'; sandbox";
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const BASE_DOMAIN = (process.env.SEALPOST_BASE_DOMAIN || 'localhost').toLowerCase();
const AUTH_HOST = CONFIG?.authHost;
// The auth host serves federated sign-in and nothing else.
const isAuthHostPath = (path: string) => path.startsWith('/api/auth/') || path.startsWith('/federated/');

// The operator's own host (and loopback addresses) serve the app itself: home, API, mailbox.
const isBaseHost = (host: string) => host === BASE_DOMAIN || host === '127.0.0.1' || host === '[::1]' || host === 'localhost';

function route(request: NextRequest, csp: string): NextResponse {
  const path = request.nextUrl.pathname;
  const headers = new Headers(request.headers);
  headers.set('content-security-policy', csp);
  // Which tenant host was asked for, for pages outside the tenant tree (the 401 and 403 pages):
  // only ever the proxy's word. Likewise who is asking: only ever scripts/server.mjs's word.
  headers.delete('x-sealpost-host');
  keepOnlyServerPeerHeaders(headers);
  // The internal tree, and the header behind CVE-2025-29927's middleware bypass: never from outside.
  if (path === '/t' || path.startsWith('/t/') || request.headers.has('x-middleware-subrequest')) {
    return new NextResponse('Not found', { status: 404 });
  }
  const host = (request.headers.get('host') ?? '').toLowerCase().replace(/:\d{1,5}$/, '');
  if (host === AUTH_HOST)
    return isAuthHostPath(path) ? NextResponse.next({ request: { headers } }) : new NextResponse('Not found', { status: 404 });
  // The local mailbox shows every passcode and link: the embedded default's, to this machine only.
  if ((path === '/mailbox' || path.startsWith('/mailbox/')) && !(CONFIG?.isMailboxOn && isLocalRequest(headers))) {
    return new NextResponse('Not found', { status: 404 });
  }
  if (path.startsWith('/api/') || isBaseHost(host)) {
    // The auth host's pages are the auth host's only.
    if (path === '/federated' || path.startsWith('/federated/')) return new NextResponse('Not found', { status: 404 });
    return NextResponse.next({ request: { headers } });
  }
  if (!HOSTNAME.test(host)) return new NextResponse('Not found', { status: 404 });
  const url = request.nextUrl.clone();
  url.pathname = `/t/${host}${path === '/' ? '' : path}`;
  headers.set('x-sealpost-host', host);
  return NextResponse.rewrite(url, { request: { headers } });
}

export function proxy(request: NextRequest) {
  const csp = contentSecurityPolicy(crypto.randomUUID().replaceAll('-', ''));
  const response = route(request, csp);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  // The proxy's headers win over a handler's: downloads get their own policy here (nothing runs,
  // nothing loads, even if a browser renders one).
  const path = request.nextUrl.pathname;
  if (/\/attachments\/[^/]+$/.test(path)) response.headers.set('Content-Security-Policy', DOWNLOAD_CSP);
  else if (/^\/(t\/[^/]+\/)?m\/[^/]+\/body$/.test(path)) {
    // A message's body, framed by its own page: sandboxed, nothing runs or loads (lib/http/message-body-response.ts).
    response.headers.set('Content-Security-Policy', messageBodyCsp(request.nextUrl.searchParams.get('images') === '1'));
    response.headers.set('X-Frame-Options', 'SAMEORIGIN');
  } else response.headers.set('Content-Security-Policy', csp);
  // The admin console's template previews are framed by its own template page (sandboxed there),
  // by nothing else.
  if (/\/admin\/templates\/preview\/(mail|landing)$/.test(path)) {
    response.headers.set('Content-Security-Policy', csp.replace("frame-ancestors 'none'", "frame-ancestors 'self'"));
    response.headers.set('X-Frame-Options', 'SAMEORIGIN');
  }
  if (request.nextUrl.protocol === 'https:' || request.headers.get('x-forwarded-proto') === 'https') {
    response.headers.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
  }
  return response;
}

export const config = {
  // Not POST /open (app/open/route.ts): Next buffers the whole body of every request the proxy
  // runs for before any handler sees it, and /open must refuse a bad token after a few KB of an
  // upload of up to 33 MB (memory exhaustion by anyone, no link needed).
  matcher: ['/((?!_next/static|_next/image|favicon.ico|open$).*)'],
};
