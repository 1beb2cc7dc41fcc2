import 'server-only';
import type { NextResponse } from 'next/server';
import { type AUTH_BINDING, bindingCookieName, type TENANT_BINDING } from '../auth/federated/binding-cookies';
import { FEDERATED_TTL_MS } from '../auth/federated/federated-signin';
import type { TRecipientSessionCookie } from '../auth/recipient-session';
import type { TConfig } from '../env';
import { hostCookieOptions } from '../auth/host-cookie';

export type SetSessionCookieOptions = { response: NextResponse; config: Pick<TConfig, 'publicScheme'>; cookie: TRecipientSessionCookie };

// The session cookie on a sign-in's response.
export function setSessionCookie({ response, config, cookie }: SetSessionCookieOptions) {
  response.cookies.set(cookie.name, cookie.value, hostCookieOptions(config, cookie.maxAge));
}

export type SetBindingCookieOptions = {
  response: NextResponse;
  config: Pick<TConfig, 'publicScheme'>;
  name: typeof TENANT_BINDING | typeof AUTH_BINDING;
  value: string | null;
};

// A federated sign-in's binding cookie, for as long as the sign-in lives; null deletes it.
export function setBindingCookie({ response, config, name, value }: SetBindingCookieOptions) {
  response.cookies.set(bindingCookieName(config, name), value ?? '', hostCookieOptions(config, value ? FEDERATED_TTL_MS / 1000 : 0));
}
