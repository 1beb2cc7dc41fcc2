import 'server-only';
import { NextResponse } from 'next/server';
import { renderStatePage, type RenderStatePageOptions } from '../portal/ui/state-page';

export type StatePageResponseOptions = Omit<RenderStatePageOptions, 'acceptLanguage'> & { request: Request; retryAfterSeconds?: number };

// A portal end state as a whole document, in the reader's language, never cached; a wait says
// how long in Retry-After.
export async function statePageResponse({ request, retryAfterSeconds, ...options }: StatePageResponseOptions): Promise<NextResponse> {
  const { status, html } = await renderStatePage({ ...options, acceptLanguage: request.headers.get('accept-language') });
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  if (status === 429 && retryAfterSeconds) headers.set('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return new NextResponse(html, { status, headers });
}
