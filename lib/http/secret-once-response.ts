import 'server-only';
import { SecretOncePage, type SecretOncePageProps } from '../admin/ui/secret-once-page';
import { renderStaticHtml } from '../mail/templates/brand-header';

// The page that shows a new secret once: never cached, never kept by a proxy.
export async function secretOnceResponse(props: SecretOncePageProps): Promise<Response> {
  const html = await renderStaticHtml(SecretOncePage(props));
  return new Response(html, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
}
