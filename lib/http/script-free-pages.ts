import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import Negotiator from 'negotiator';

// The recipient's pages are whole documents without JavaScript: every link is a link, every
// action a plain form post to a route handler (SPEC: "works with JavaScript off"), and none of
// them holds a client component. Next.js's App Router still sends each of them its client
// runtime — React DOM, the router, the RSC client: 131 KB gzip with no code of ours in it,
// measured in bench/portal — and the page's RSC payload inlined, only to hydrate a tree that has
// nothing to hydrate. On these pages scripts/server.mjs takes the scripts out of the document
// (serveScriptFree, below) and narrows its policy to `script-src 'none'`, so the page that frames
// a stranger's mail runs no script at all. The reply page keeps its runtime: it has a client
// component (the attachment size check before a long upload).

// GET /r/<token>, /r/<token>/verify, /m/<id>, /m/<id>/forward (as the browser asks for them,
// before the proxy's rewrite into the tenant tree).
const SCRIPT_FREE_PAGE = /^\/(?:r\/[^/]+(?:\/verify)?|m\/[^/]+(?:\/forward)?)\/?$/;

export type IsScriptFreePageOptions = { method: string; pathname: string };

export const isScriptFreePage = ({ method, pathname }: IsScriptFreePageOptions) => method === 'GET' && SCRIPT_FREE_PAGE.test(pathname);

// React escapes `<` in every text and attribute value it renders, and Next.js escapes it inside
// the JSON its inline scripts carry, so in its output `<script` and `</script>` are only ever
// tags: these patterns cannot cut into a page's content.
const SCRIPT = /<script\b[^>]*>[\s\S]*?<\/script\s*>/gi;
const SCRIPT_PRELOAD = /<link\b(?=[^>]*\bas="script")[^>]*>|<link\b(?=[^>]*\brel="modulepreload")[^>]*>/gi;
// Documents that need their scripts to be complete, and keep them: a Suspense boundary still
// pending (`<!--$?-->`) or left to the client (`<!--$!-->`), and Next.js's error shell, an empty
// document that its runtime fills in (the 401, 403 and 404 a page throws are drawn that way).
const NEEDS_SCRIPTS = /<!--\$[?!]-->|<html\b[^>]*\bid="__next_error__"/;

// The document without its scripts and script preloads, or null when it cannot do without them.
export function removeScripts(html: string): string | null {
  if (NEEDS_SCRIPTS.test(html)) return null;
  return html.replace(SCRIPT, '').replace(SCRIPT_PRELOAD, '');
}

// scripts/server.mjs's side: Next.js renders the page as ever
// into this response, which keeps the HTML until Next.js ends it, takes the scripts out, and
// sends it whole (with its length, gzip when the browser takes it). The pages are small (about
// 15 KB) and fully rendered before their first byte (no Suspense boundary streams late), so
// holding the document back costs no time to first paint. Anything but an HTML document passes
// through as Next.js writes it.

type TChunk = string | Uint8Array;
type TCallback = (error?: Error | null) => void;
type TWrite = (chunk: TChunk, encoding?: BufferEncoding | TCallback, callback?: TCallback) => boolean;
type TEnd = (chunk?: TChunk | TCallback, encoding?: BufferEncoding | TCallback, callback?: TCallback) => ServerResponse;

export type ServeScriptFreeOptions = {
  req: IncomingMessage;
  res: ServerResponse;
  handle: (req: IncomingMessage, res: ServerResponse) => unknown;
};

const toBuffer = (chunk: TChunk, encoding?: BufferEncoding | TCallback) =>
  typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(chunk);

export function serveScriptFree({ req, res, handle }: ServeScriptFreeOptions) {
  const isGzipOk = new Negotiator(req).encoding(['gzip', 'identity']) === 'gzip';
  // Next.js would compress the document before it reaches us: it is compressed here instead.
  delete req.headers['accept-encoding'];
  const write = res.write.bind(res) as TWrite;
  const end = res.end.bind(res) as TEnd;
  const flushHeaders = res.flushHeaders.bind(res);
  const writeHead = res.writeHead.bind(res);
  const chunks: Buffer[] = [];
  // Decided at the first byte, when Next.js has set the content type (an error page is HTML too).
  let mode: 'undecided' | 'hold' | 'pass' = 'undecided';
  let isSending = false;
  const decide = () => {
    if (mode === 'undecided')
      mode = !res.headersSent && /^text\/html\b/i.test(String(res.getHeader('content-type') ?? '')) ? 'hold' : 'pass';
    return mode;
  };

  // The head is written with the body (Node.js writes it implicitly on the first byte, or the
  // compression layer asks for it on the end): its headers land on the response until then.
  res.writeHead = ((statusCode: number, ...rest: unknown[]) => {
    res.statusCode = statusCode;
    const reason = rest.find((a): a is string => typeof a === 'string');
    if (reason) res.statusMessage = reason;
    const headers = rest.find((a) => typeof a === 'object' && a !== null);
    if (Array.isArray(headers)) for (let i = 0; i + 1 < headers.length; i += 2) res.setHeader(String(headers[i]), headers[i + 1]);
    else if (headers) for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
    if (isSending || decide() === 'pass') writeHead(res.statusCode);
    return res;
  }) as ServerResponse['writeHead'];
  res.flushHeaders = () => {
    if (decide() === 'pass') flushHeaders();
  };
  res.write = ((chunk: TChunk, encoding?: BufferEncoding | TCallback, callback?: TCallback) => {
    if (decide() === 'pass') return write(chunk, encoding, callback);
    chunks.push(toBuffer(chunk, encoding));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) process.nextTick(done);
    return true;
  }) as ServerResponse['write'];
  res.end = ((chunk?: TChunk | TCallback, encoding?: BufferEncoding | TCallback, callback?: TCallback) => {
    const done = [chunk, encoding, callback].find((a): a is TCallback => typeof a === 'function');
    const last = typeof chunk === 'function' ? undefined : chunk;
    if (decide() === 'pass') return last === undefined ? end(done) : end(last, typeof encoding === 'string' ? encoding : 'utf8', done);
    if (last !== undefined) chunks.push(toBuffer(last, encoding));
    isSending = true;
    const html = Buffer.concat(chunks).toString('utf8');
    const stripped = removeScripts(html);
    const body = Buffer.from(stripped ?? html, 'utf8');
    // Nothing left to run: the policy says so too (script injection stops here, whatever else fails).
    const csp = res.getHeader('content-security-policy');
    if (stripped !== null && typeof csp === 'string')
      res.setHeader('content-security-policy', csp.replace(/script-src [^;]*/, "script-src 'none'"));
    const sent = isGzipOk ? zlib.gzipSync(body) : body;
    res.removeHeader('transfer-encoding');
    if (isGzipOk) res.setHeader('content-encoding', 'gzip');
    const vary = String(res.getHeader('vary') ?? '');
    if (!/\baccept-encoding\b/i.test(vary)) res.setHeader('vary', vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding');
    res.setHeader('content-length', sent.length);
    return end(sent, done);
  }) as ServerResponse['end'];
  return handle(req, res);
}
