import { describe, expect, it } from 'vitest';
import { isScriptFreePage, removeScripts } from '@/lib/http/script-free-pages';

// Which requests go out without scripts, and what of a page is taken out (lib/http/script-free-pages.ts).
describe('script-free recipient pages', () => {
  it.each([
    ['GET', '/r/abc.def', true],
    ['GET', '/r/abc.def/verify', true],
    ['GET', '/m/1b2c', true],
    ['GET', '/m/1b2c/forward', true],
    ['HEAD', '/m/1b2c', false],
    ['POST', '/r/abc/passcode', false],
    ['GET', '/m/1b2c/reply', false],
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
