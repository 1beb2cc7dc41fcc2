import 'server-only';
import { NextResponse } from 'next/server';
import { adminCookieName } from '../admin/admin-session';
import { hostCookieOptions } from '../auth/host-cookie';
import type { TConfig } from '../env';
import { seeOther } from './see-other';

// The admin cookie: this host only, and Strict: no other site can make a browser send it, so no
// cross-site request ever arrives signed in to the console.
const adminCookieOptions = (config: Pick<TConfig, 'publicScheme'>, maxAge: number) => ({
  ...hostCookieOptions(config, maxAge),
  sameSite: 'strict' as const,
});

export type SignedInResponseOptions = {
  config: Pick<TConfig, 'publicScheme'>;
  cookie: { value: string; maxAgeSeconds: number };
  next: string;
};

// A passkey ceremony's success: the new session's cookie, and where the page goes next.
export function signedInResponse({ config, cookie, next }: SignedInResponseOptions): NextResponse {
  const response = NextResponse.json({ ok: true, next });
  response.cookies.set(adminCookieName(config), cookie.value, adminCookieOptions(config, cookie.maxAgeSeconds));
  return response;
}

export type SignedInAfterProviderOptions = {
  config: Pick<TConfig, 'publicScheme'>;
  cookie: { value: string; maxAgeSeconds: number };
  page: string;
};

// A provider's sign-in ends in a redirect chain that began on the provider's site, so a browser
// sends no Strict cookie on its last step: the session's cookie comes with a page of this origin
// that moves on by itself (a navigation this site starts, which carries it).
export function signedInAfterProvider({ config, cookie, page }: SignedInAfterProviderOptions): NextResponse {
  const response = new NextResponse(page, {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
  response.cookies.set(adminCookieName(config), cookie.value, adminCookieOptions(config, cookie.maxAgeSeconds));
  return response;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The page between a provider's sign-in and the console (next: a safeAdminNext path).
export function adminContinuePage(next: string): string {
  const href = escapeHtml(safeAdminNext(next));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="0;url=${href}"><title>Signed in</title></head><body><main><h1>Signed in</h1><p><a href="${href}">Continue to the admin console</a></p></main></body></html>`;
}

export type SignedOutResponseOptions = { config: Pick<TConfig, 'publicScheme'> };

export function signedOutResponse({ config }: SignedOutResponseOptions): NextResponse {
  const response = seeOther('/admin?signed-out=1');
  response.cookies.set(adminCookieName(config), '', adminCookieOptions(config, 0));
  return response;
}

// A ceremony's options for the page's script.
export const jsonResponse = (body: unknown) => NextResponse.json(body);

// Only paths of this console are followed after a sign-in: never another host (open redirect).
export const safeAdminNext = (next: unknown) =>
  typeof next === 'string' && /^\/admin(\/[A-Za-z0-9/_?=&%.-]*)?$/.test(next) && !next.startsWith('//') ? next : '/admin/messages';
