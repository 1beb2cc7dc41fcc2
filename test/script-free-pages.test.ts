import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_CHECK,
  inlineStylesheets,
  isScriptFreePage,
  pageScriptFor,
  readBuildStylesheets,
  removeScripts,
  withScript,
  withoutPreloads,
} from '@/lib/http/script-free-pages';

// Which requests go out without scripts, and what of a page is taken out (lib/http/script-free-pages.ts).
describe('script-free recipient pages', () => {
  it.each([
    ['GET', '/r/abc.def', true],
    ['GET', '/r/abc.def/verify', true],
    ['GET', '/m/1b2c', true],
    ['GET', '/m/1b2c/forward', true],
    ['HEAD', '/m/1b2c', false],
    ['POST', '/r/abc/passcode', false],
    ['GET', '/m/1b2c/reply', true],
    ['POST', '/m/1b2c/reply/send', false],
    ['GET', '/m/1b2c/body', false],
    ['GET', '/m/1b2c/attachments/0', false],
    ['GET', '/admin', false],
    ['GET', '/', false],
  ])('%s %s → %s', (method, pathname, expected) => {
    expect(isScriptFreePage({ method, pathname })).toBe(expected);
  });

  it('takes out every script, inline or not, and script preloads; keeps styles, text and forms', () => {
    const html =
      '<!DOCTYPE html><html><head><link rel="stylesheet" href="/a.css"/><link rel="preload" as="script" fetchPriority="low" href="/_next/static/chunks/x.js"/>' +
      '<link rel="modulepreload" href="/m.js"/><script src="/_next/static/chunks/y.js" async=""></script><title>T</title></head>' +
      '<body><p>a &lt;script&gt;alert(1)&lt;/script&gt; b</p><form action="/r/t/passcode" method="post"><button>Go</button></form>' +
      '<script nonce="n">self.__next_f.push([1,"\\u003c/script\\u003e"])</script><SCRIPT>x()</SCRIPT ></body></html>';
    expect(removeScripts(html)).toBe(
      '<!DOCTYPE html><html><head><link rel="stylesheet" href="/a.css"/><title>T</title></head>' +
        '<body><p>a &lt;script&gt;alert(1)&lt;/script&gt; b</p><form action="/r/t/passcode" method="post"><button>Go</button></form></body></html>',
    );
  });

  it('the reply page alone carries a script of its own, allowed by its hash, put last in the body', () => {
    const hash = crypto.createHash('sha256').update(ATTACHMENT_CHECK).digest('base64');
    expect(pageScriptFor('/m/1b2c/reply')).toEqual({ text: ATTACHMENT_CHECK, source: `'sha256-${hash}'` });
    expect(pageScriptFor('/m/1b2c/reply/')).not.toBeNull();
    for (const other of ['/m/1b2c', '/m/1b2c/forward', '/r/abc/verify', '/m/reply', '/m/1b2c/reply/send'])
      expect(pageScriptFor(other)).toBeNull();
    expect(withScript('<html><body><p>a</p></body></html>', 'x()')).toBe('<html><body><p>a</p><script>x()</script></body></html>');
    // Nothing in it could end the element early.
    expect(ATTACHMENT_CHECK).not.toMatch(/<\/|<!--/);
  });

  it.each([
    [
      'with a Suspense boundary pending',
      '<div><!--$?--><template id="B:0"></template><p>Loading</p><!--/$--></div><script>$RC("B:0","S:0")</script>',
    ],
    [
      'with a Suspense boundary left to the client',
      '<div><!--$!--><template data-dgst="x"></template><!--/$--></div><script src="/r.js"></script>',
    ],
    [
      "that is Next.js's error shell",
      '<!DOCTYPE html><html id="__next_error__"><head></head><body><script src="/r.js"></script></body></html>',
    ],
  ])('keeps the scripts of a document %s (it needs them to be complete)', (_kind, html) => {
    expect(removeScripts(html)).toBeNull();
  });
});

// The build's stylesheet inside the document: no render-blocking request, and no unstyled layout at
// DOMContentLoaded (which comes before a linked stylesheet now that nothing runs) to be redone.
describe('the stylesheet inlined into the script-free pages', () => {
  const CSS = 'body{margin:0}.p-4{padding:1rem}';
  const read = (href: string) => (href === '/_next/static/chunks/a.css' ? CSS : null);
  const head = (links: string) =>
    `<!DOCTYPE html><html><head><meta charSet="utf-8"/>${links}<title>T</title></head><body><p>x</p></body></html>`;

  it('puts the stylesheet in a <style> where its <link> was, and names it', () => {
    const html = head('<link rel="stylesheet" href="/_next/static/chunks/a.css" nonce="n" data-precedence="next"/>');
    expect(inlineStylesheets({ html, readStylesheet: read })).toEqual({
      html: head(`<style>${CSS}</style>`),
      inlined: ['/_next/static/chunks/a.css'],
    });
  });

  it.each([
    ['a stylesheet it cannot read', '<link rel="stylesheet" href="/_next/static/chunks/b.css"/>'],
    ['a stylesheet from elsewhere', '<link rel="stylesheet" href="https://cdn.example/a.css"/>'],
    ['a path out of the build', '<link rel="stylesheet" href="/_next/static/../../etc/a.css"/>'],
    ['a link that is not a stylesheet', '<link rel="icon" href="/_next/static/chunks/a.css"/>'],
  ])('leaves %s as it is', (_kind, link) => {
    expect(inlineStylesheets({ html: head(link), readStylesheet: read })).toEqual({ html: head(link), inlined: [] });
  });

  it('keeps the link when the CSS would end the <style> early', () => {
    const html = head('<link rel="stylesheet" href="/_next/static/chunks/a.css"/>');
    expect(inlineStylesheets({ html, readStylesheet: () => 'a{}</STYLE><script>x()</script>' }).inlined).toEqual([]);
  });

  it('reads the build stylesheets from .next/static, never outside it', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-css-'));
    fs.mkdirSync(path.join(root, '.next', 'static', 'chunks'), { recursive: true });
    fs.writeFileSync(path.join(root, '.next', 'static', 'chunks', 'a.css'), CSS);
    fs.writeFileSync(path.join(root, 'secret.css'), 'no');
    const readStylesheet = readBuildStylesheets(root);
    expect(readStylesheet('/_next/static/chunks/a.css')).toBe(CSS);
    expect(readStylesheet('/_next/static/chunks/missing.css')).toBeNull();
    expect(readStylesheet('/_next/static/../../secret.css')).toBeNull();
    expect(readStylesheet('/secret.css')).toBeNull();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.each([
    ['</_next/static/chunks/a.css>; rel=preload; as="style"; nonce="n"', undefined],
    [
      '</_next/static/chunks/a.css>; rel=preload; as="style", </_next/static/media/f.woff2>; rel=preload; as="font"',
      '</_next/static/media/f.woff2>; rel=preload; as="font"',
    ],
    ['</_next/static/chunks/b.css>; rel=preload; as="style"', '</_next/static/chunks/b.css>; rel=preload; as="style"'],
  ])('drops the preload of an inlined stylesheet from the Link header: %s', (link, expected) => {
    expect(withoutPreloads(link, ['/_next/static/chunks/a.css'])).toBe(expected);
  });
});
