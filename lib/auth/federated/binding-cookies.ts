import type { NextResponse } from 'next/server';
import type { TConfig } from '../../env';
import { FEDERATED_TTL_MS } from './federated-signin';

// A federated sign-in is bound to one browser twice: on the tenant host where it starts and ends,
// and on the auth host where the provider sends the reader back. `__Host-` (Secure, no Domain,
// Path=/) pins each to exactly its host; plain HTTP (local trial) cannot carry Secure cookies.
export const TENANT_BINDING = 'sealpost-federated';
export const AUTH_BINDING = 'sealpost-auth-signin';

export const bindingCookieName = (config: Pick<TConfig, 'publicScheme'>, name: typeof TENANT_BINDING | typeof AUTH_BINDING) =>
  config.publicScheme === 'https' ? `__Host-${name}` : name;

export type SetBindingCookieOptions = { response: NextResponse; config: Pick<TConfig, 'publicScheme'>; name: typeof TENANT_BINDING | typeof AUTH_BINDING; value: string | null };

// Lax: the provider's redirect back and the hand-off are top-level navigations from another site.
export function setBindingCookie({ response, config, name, value }: SetBindingCookieOptions) {
  response.cookies.set(bindingCookieName(config, name), value ?? '', {
    httpOnly: true,
    secure: config.publicScheme === 'https',
    sameSite: 'lax',
    path: '/',
    maxAge: value ? FEDERATED_TTL_MS / 1000 : 0,
  });
}
