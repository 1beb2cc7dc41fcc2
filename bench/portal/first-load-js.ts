import zlib from 'node:zlib';
import { requestAs } from '../../test/helpers/server';

export type TPageWeight = {
  page: string;
  status: number;
  htmlBytes: number;
  htmlGzipBytes: number;
  scripts: string[];
  scriptBytes: number;
  scriptGzipBytes: number;
  // Inline <script> bodies (Next's RSC payload, on a page that keeps its runtime; the reply page's check).
  inlineScriptBytes: number;
  inlineScriptGzipBytes: number;
  forms: number;
};

// Gzip at zlib's default level: what `next start` serves to a browser that accepts gzip.
const gzipBytes = (b: Buffer | string) => zlib.gzipSync(b).length;

// A `noModule` script (Next's legacy polyfills) is fetched only by browsers without ES modules:
// none the portal supports loads it, so it is not counted.
const STATIC_SCRIPT = /<script\b(?![^>]*\bnoModule\b)[^>]*\bsrc="(\/_next\/static\/[^"]+\.js[^"]*)"/gi;
const PRELOADED_SCRIPT = /<link\b[^>]*\brel="(?:modulepreload|preload)"[^>]*\bhref="(\/_next\/static\/[^"]+\.js[^"]*)"/g;
const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g;

export type MeasurePageOptions = { port: number; host: string; page: string; path: string; cookie?: string; cache: Map<string, Buffer> };

// Every script the page makes a current browser fetch before it is interactive: <script src> (not
// noModule) and (module)preloaded chunks under /_next/static/, each counted once.
export async function measurePage({ port, host, page, path, cookie, cache }: MeasurePageOptions): Promise<TPageWeight> {
  const res = await requestAs(port, host, path, { headers: cookie ? { cookie } : {} });
  const html = res.body;
  const scripts = [
    ...new Set([...html.matchAll(STATIC_SCRIPT), ...html.matchAll(PRELOADED_SCRIPT)].map((m) => m[1]!.replace(/&amp;/g, '&'))),
  ];
  let scriptBytes = 0;
  let scriptGzipBytes = 0;
  for (const src of scripts) {
    let body = cache.get(src);
    if (!body) {
      const asset = await requestAs(port, host, src);
      if (asset.status !== 200) throw new Error(`${src}: HTTP ${asset.status}`);
      body = Buffer.from(asset.body);
      cache.set(src, body);
    }
    scriptBytes += body.length;
    scriptGzipBytes += gzipBytes(body);
  }
  const inline = [...html.matchAll(INLINE_SCRIPT)].map((m) => m[1]!).join('');
  return {
    page,
    status: res.status,
    htmlBytes: Buffer.byteLength(html),
    htmlGzipBytes: gzipBytes(html),
    scripts,
    scriptBytes,
    scriptGzipBytes,
    inlineScriptBytes: Buffer.byteLength(inline),
    inlineScriptGzipBytes: gzipBytes(inline),
    forms: (html.match(/<form\b[^>]*\baction="\//g) ?? []).length,
  };
}
