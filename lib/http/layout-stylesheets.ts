import fs from 'node:fs';
import path from 'node:path';

// The stylesheets the root layout brings (app/globals.css as the build made it), as hrefs, for the
// documents that route handlers render themselves (the message page): Next.js links them into the
// pages it renders, and nothing else names them. They are read from the client reference manifest
// Next.js writes for the root page, whose `entryCSSFiles` lists each layout's stylesheets; under
// `next dev` that manifest appears once the first page is compiled, so there it is read again
// until it is found. None found: the documents go out without a stylesheet, unstyled but whole.
const ROOT_LAYOUT = '[project]/app/layout';
const MANIFESTS = ['page_client-reference-manifest.js', path.join('_not-found', 'page_client-reference-manifest.js')];

type TManifest = { entryCSSFiles?: Record<string, { path?: unknown }[]> };

// The manifest is a script that assigns one JSON object (`globalThis.__RSC_MANIFEST["/page"] = {…};`).
function parseManifest(text: string): TManifest | null {
  const start = text.indexOf('= {', text.indexOf('__RSC_MANIFEST['));
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    return JSON.parse(text.slice(start + 2, end + 1)) as TManifest;
  } catch {
    return null;
  }
}

// The root layout's stylesheet hrefs (`/_next/static/…css`) from the build in distDir; [] when
// there is no manifest to read them from (yet).
export function readLayoutStylesheets(distDir: string): string[] {
  for (const name of MANIFESTS) {
    const file = path.join(distDir, 'server', 'app', name);
    if (!fs.existsSync(file)) continue;
    const files = parseManifest(fs.readFileSync(file, 'utf8'))?.entryCSSFiles?.[ROOT_LAYOUT] ?? [];
    const hrefs = files
      .map((f) => f.path)
      .filter((p): p is string => typeof p === 'string' && /^static\/[\w./-]+\.css$/.test(p) && !p.includes('..'))
      .map((p) => `/_next/${p}`);
    if (hrefs.length) return hrefs;
  }
  return [];
}

const KEY = Symbol.for('sealpost.layoutStylesheets');
type TLayoutStylesheetsSource = () => string[];

// scripts/server.mjs's side: where the running build's root layout stylesheets are found (read
// once for a build, which never changes under a running server; again until found under `next dev`).
export function publishLayoutStylesheets({ distDir, isDev }: { distDir: string; isDev: boolean }): void {
  let found: string[] = [];
  const source: TLayoutStylesheetsSource = () => {
    if (!found.length || isDev) found = readLayoutStylesheets(distDir);
    return found;
  };
  (globalThis as Record<symbol, unknown>)[KEY] = source;
}

// The route handlers' side: the hrefs, or none outside scripts/server.mjs (as in a unit test).
export function layoutStylesheets(): string[] {
  const source = (globalThis as Record<symbol, unknown>)[KEY] as TLayoutStylesheetsSource | undefined;
  return source ? source() : [];
}
