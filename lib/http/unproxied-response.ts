import 'server-only';
// A route the proxy does not see (POST /open) gets no security headers from it: it sets its own,
// for a response that only ever redirects or says why not.
const HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export type UnproxiedResponseOptions = { status: number; text?: string; headers?: Record<string, string> };

export function unproxiedResponse({ status, text, headers = {} }: UnproxiedResponseOptions): Response {
  const all = { ...HEADERS, ...(text === undefined ? {} : { 'Content-Type': 'text/plain; charset=utf-8' }), ...headers };
  return new Response(text ?? null, { status, headers: all });
}
