import 'server-only';

// A whole HTML document made by a handler (a preview), never cached.
export const htmlResponse = (html: string) =>
  new Response(html, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
