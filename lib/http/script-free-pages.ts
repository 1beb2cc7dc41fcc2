import crypto from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import Negotiator from 'negotiator';

// The recipient's pages are whole documents without JavaScript: every link is a link, every
// action a plain form post to a route handler (SPEC: "works with JavaScript off"), and none of
// them holds a client component. Next.js's App Router still sends each of them its client
// runtime — React DOM, the router, the RSC client: 131 KB gzip with no code of ours in it,
// measured in bench/portal — and the page's RSC payload inlined, only to hydrate a tree that has
// nothing to hydrate. On these pages scripts/server.mjs takes the scripts out of the document
// (serveScriptFree, below) and narrows its policy to `script-src 'none'`, so the page that frames
// a stranger's mail runs no script at all.
//
// The reply page's one enhancement, refusing files over the limits before a long upload the
// server would refuse anyway, is ATTACHMENT_CHECK below: a few lines put into the document in place
// of the runtime (132 KB gzip for it, when it was a client component), allowed by their hash alone.

// GET /r/<token>, /r/<token>/verify, /m/<id>, /m/<id>/forward, and /m/<id>/reply with its check
// (as the browser asks for them, before the proxy's rewrite into the tenant tree).
const SCRIPT_FREE_PAGE = /^\/(?:r\/[^/]+(?:\/verify)?|m\/[^/]+(?:\/forward)?)\/?$/;
const REPLY_PAGE = /^\/m\/[^/]+\/reply\/?$/;

// With JavaScript on, a file input that names its limits (data-max-files, data-max-bytes, and the
// sentence data-refusal) refuses files over them in the page, and the text written beside them
// stays. Without JavaScript the server's check is the only one. Hand-written rather than a client
// component: React and Next.js's runtime for one change listener was the page's whole 132 KB.
export const ATTACHMENT_CHECK =
  "document.addEventListener('change',function(e){var i=e.target,d=i&&i.dataset;if(!d||!d.maxBytes)return;" +
  'var n=0,t=0,f=i.files||[];for(;n<f.length;n++)t+=f[n].size;' +
  "i.setCustomValidity(f.length>Number(d.maxFiles)||t>Number(d.maxBytes)?d.refusal||'':'');i.reportValidity()});";
const ATTACHMENT_CHECK_SOURCE = `'sha256-${crypto.createHash('sha256').update(ATTACHMENT_CHECK).digest('base64')}'`;

// The script a page carries in place of the runtime (its text, and the CSP source allowing it), if any.
export function pageScriptFor(pathname: string): { text: string; source: string } | null {
  return REPLY_PAGE.test(pathname) ? { text: ATTACHMENT_CHECK, source: ATTACHMENT_CHECK_SOURCE } : null;
}

export type IsScriptFreePageOptions = { method: string; pathname: string };

export const isScriptFreePage = ({ method, pathname }: IsScriptFreePageOptions) =>
  method === 'GET' && (SCRIPT_FREE_PAGE.test(pathname) || REPLY_PAGE.test(pathname));

// React escapes `<` in every text and attribute value it renders, and Next.js escapes it inside
// the JSON its inline scripts carry, so in its output `<script` and `</script>` are only ever
// tags: these patterns cannot cut into a page's content.
const SCRIPT = /<script\b[^>]*>[\s\S]*?<\/script\s*>/gi;
const SCRIPT_PRELOAD = /<link\b(?=[^>]*\bas="script")[^>]*>|<link\b(?=[^>]*\brel="modulepreload")[^>]*>/gi;
// Documents that need their scripts to be complete, and keep them: a Suspense boundary still
// pending (`<!--$?-->`) or left to the client (`<!--$!-->`), and Next.js's error shell, an empty
// document that its runtime fills in (the 401, 403 and 404 a page throws are drawn that way).
const NEEDS_SCRIPTS = /<!--\$[?!]-->|<html\b[^>]*\bid="__next_error__"/;

// The document with one inline script put last in its body (a script-free document's only one).
export function withScript(html: string, text: string): string {
  const at = html.lastIndexOf('</body>');
  const tag = `<script>${text}</script>`;
  return at < 0 ? html + tag : html.slice(0, at) + tag + html.slice(at);
}

// The document without its scripts and script preloads, or null when it cannot do without them.
export function removeScripts(html: string): string | null {
  if (NEEDS_SCRIPTS.test(html)) return null;
  return html.replace(SCRIPT, '').replace(SCRIPT_PRELOAD, '');
}

// The build's stylesheet goes inside the document, as a <style>, in place of its <link>. With
// nothing left to run, DOMContentLoaded no longer waits for the stylesheet: it fires as soon as the
// small document is parsed, a round trip before a linked stylesheet arrives on a phone's network,
// and Chromium styles and lays the page out right then when it has form fields (the passcode
// page): unstyled, only to do it all again when the stylesheet lands. In Lighthouse's mobile
// traces those two passes were the page's longest tasks after the navigation itself (its Total
// Blocking Time), behind a render-blocking request. Inline, there is one pass, styled, and the
// first paint waits for nothing. The cost: the stylesheet (about 6 KB gzip) travels with each page
// instead of once; a recipient sees few pages, mostly on a first visit, when it would not be cached.
const STYLESHEET_LINK = /<link\b(?=[^>]*\brel="stylesheet")[^>]*>/gi;
const LINK_HREF = /\bhref="([^"]*)"/i;
// Only the build's own stylesheets: a path under /_next/static/, no `..`, ending in .css.
const BUILD_STYLESHEET = /^\/_next\/static\/(?:[\w-]+\/)*[\w.-]+\.css$/;

export type ReadStylesheet = (href: string) => string | null;

export type InlineStylesheetsOptions = { html: string; readStylesheet: ReadStylesheet };

// The document with each stylesheet link the build serves replaced by a <style> holding it, and the
// hrefs so replaced. A link it cannot read, or whose CSS could end the <style> early, stays a link.
export function inlineStylesheets({ html, readStylesheet }: InlineStylesheetsOptions): { html: string; inlined: string[] } {
  const inlined: string[] = [];
  const out = html.replace(STYLESHEET_LINK, (link) => {
    const href = LINK_HREF.exec(link)?.[1];
    if (!href || !BUILD_STYLESHEET.test(href) || href.includes('..')) return link;
    const css = readStylesheet(href);
    if (css === null || /<\/style/i.test(css)) return link;
    inlined.push(href);
    return `<style>${css}</style>`;
  });
  return { html: out, inlined };
}

// The build's stylesheets read from <root>/.next/static, each once (a build never changes under a
// running server); null for a file that is not there (as in `next dev`, which serves its own).
export function readBuildStylesheets(root: string): ReadStylesheet {
  const cache = new Map<string, string | null>();
  const staticDir = path.join(root, '.next', 'static');
  return (href) => {
    if (!BUILD_STYLESHEET.test(href) || href.includes('..')) return null;
    if (!cache.has(href)) {
      const file = path.join(staticDir, href.slice('/_next/static/'.length));
      cache.set(href, fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null);
    }
    return cache.get(href) ?? null;
  };
}

// A Link header without its preloads of the stylesheets now inside the document (the browser would
// still fetch them); undefined when nothing is left of it.
export function withoutPreloads(link: string, hrefs: string[]): string | undefined {
  const kept = link.split(/,\s*(?=<)/).filter((entry) => !hrefs.some((href) => entry.trimStart().startsWith(`<${href}>`)));
  return kept.length ? kept.join(', ') : undefined;
}

// scripts/server.mjs's side: Next.js renders the page as ever
// into this response, which keeps the HTML until Next.js ends it, takes the scripts out, puts the
// stylesheet in (given readStylesheet), and sends it whole (with its length, gzip when the browser
// takes it). The pages are small (about 25 KB with the stylesheet) and fully rendered
// before their first byte (no Suspense boundary streams late), so holding the document back costs
// no time to first paint. Anything but an HTML document passes
// through as Next.js writes it.

type TChunk = string | Uint8Array;
type TCallback = (error?: Error | null) => void;
type TWrite = (chunk: TChunk, encoding?: BufferEncoding | TCallback, callback?: TCallback) => boolean;
type TEnd = (chunk?: TChunk | TCallback, encoding?: BufferEncoding | TCallback, callback?: TCallback) => ServerResponse;

export type ServeScriptFreeOptions = {
  req: IncomingMessage;
  res: ServerResponse;
  handle: (req: IncomingMessage, res: ServerResponse) => unknown;
  readStylesheet?: ReadStylesheet;
};

const toBuffer = (chunk: TChunk, encoding?: BufferEncoding | TCallback) =>
  typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(chunk);

export function serveScriptFree({ req, res, handle, readStylesheet }: ServeScriptFreeOptions) {
  // Read before Next.js handles the request (its proxy rewrites it into the tenant tree).
  const script = pageScriptFor((req.url ?? '').split('?')[0] ?? '');
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
    const removed = removeScripts(html);
    const stripped = removed !== null && script ? withScript(removed, script.text) : removed;
    const styled = stripped !== null && readStylesheet ? inlineStylesheets({ html: stripped, readStylesheet }) : null;
    const body = Buffer.from(styled?.html ?? stripped ?? html, 'utf8');
    const link = res.getHeader('link');
    if (styled?.inlined.length && typeof link === 'string') {
      const rest = withoutPreloads(link, styled.inlined);
      if (rest === undefined) res.removeHeader('link');
      else res.setHeader('link', rest);
    }
    // Nothing left to run but the page's own script, if any: the policy says so too (script
    // injection stops here, whatever else fails).
    const csp = res.getHeader('content-security-policy');
    if (stripped !== null && typeof csp === 'string')
      res.setHeader('content-security-policy', csp.replace(/script-src [^;]*/, `script-src ${script?.source ?? "'none'"}`));
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
