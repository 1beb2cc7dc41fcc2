import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { layoutStylesheets, publishLayoutStylesheets, readLayoutStylesheets } from '../lib/http/layout-stylesheets';
import { makeTempDir } from './helpers/context';

// The root layout's stylesheets, for the pages route handlers render themselves (the message
// page), read from the client reference manifest Next.js writes for the root page.
const manifest = (entryCSSFiles: unknown) =>
  `globalThis.__RSC_MANIFEST = globalThis.__RSC_MANIFEST || {};\nglobalThis.__RSC_MANIFEST["/page"] = ${JSON.stringify({
    moduleLoading: { prefix: '' },
    clientModules: {},
    entryCSSFiles,
  })};`;

function distWith(entryCSSFiles: unknown, name = 'page_client-reference-manifest.js') {
  const distDir = makeTempDir();
  const file = path.join(distDir, 'server', 'app', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, manifest(entryCSSFiles));
  return distDir;
}

describe('the root layout stylesheets', () => {
  it("are the root layout's entry CSS files, as hrefs the build serves", () => {
    const distDir = distWith({
      '[project]/app/layout': [{ path: 'static/chunks/0d98bpc17fay_.css', inlined: false }],
      '[project]/app/t/[host]/admin/layout': [{ path: 'static/chunks/admin.css', inlined: false }],
    });
    expect(readLayoutStylesheets(distDir)).toEqual(['/_next/static/chunks/0d98bpc17fay_.css']);
  });

  it("fall back to the not-found page's manifest", () => {
    const distDir = distWith(
      { '[project]/app/layout': [{ path: 'static/chunks/a.css' }] },
      path.join('_not-found', 'page_client-reference-manifest.js'),
    );
    expect(readLayoutStylesheets(distDir)).toEqual(['/_next/static/chunks/a.css']);
  });

  it('are none without a manifest, or with one that is damaged or names anything but a CSS file under static/', () => {
    expect(readLayoutStylesheets(makeTempDir())).toEqual([]);
    const damaged = distWith({});
    fs.writeFileSync(
      path.join(damaged, 'server', 'app', 'page_client-reference-manifest.js'),
      'globalThis.__RSC_MANIFEST["/page"] = {not json',
    );
    expect(readLayoutStylesheets(damaged)).toEqual([]);
    const hostile = distWith({
      '[project]/app/layout': [
        { path: '../../etc/passwd.css' },
        { path: 'static/../../secret.css' },
        { path: 'static/chunks/x.js' },
        { path: 'https://elsewhere.example/x.css' },
        { path: 42 },
        {},
      ],
    });
    expect(readLayoutStylesheets(hostile)).toEqual([]);
  });

  it('as published by the server: read once for a build, again until found under next dev', () => {
    const distDir = makeTempDir();
    publishLayoutStylesheets({ distDir, isDev: false });
    expect(layoutStylesheets()).toEqual([]);
    const file = path.join(distDir, 'server', 'app', 'page_client-reference-manifest.js');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, manifest({ '[project]/app/layout': [{ path: 'static/chunks/one.css' }] }));
    expect(layoutStylesheets()).toEqual(['/_next/static/chunks/one.css']);
    // A build never changes under a running server: once found, not read again.
    fs.writeFileSync(file, manifest({ '[project]/app/layout': [{ path: 'static/chunks/two.css' }] }));
    expect(layoutStylesheets()).toEqual(['/_next/static/chunks/one.css']);
    // Under next dev it is rebuilt as the sources change.
    publishLayoutStylesheets({ distDir, isDev: true });
    expect(layoutStylesheets()).toEqual(['/_next/static/chunks/two.css']);
  });
});
