import type { NextResponse } from 'next/server';
import type { TConfig } from '../../env';
import { hostCookieName, hostCookieOptions } from '../../http/host-cookie';
import { FEDERATED_TTL_MS } from './federated-signin';

// A federated sign-in is bound to one browser twice: on the tenant host where it starts and ends,
// and on the auth host where the provider sends the reader back; each cookie is its host's only.
export const TENANT_BINDING = 'sealpost-federated';
export const AUTH_BINDING = 'sealpost-auth-signin';

export const bindingCookieName = (config: Pick<TConfig, 'publicScheme'>, name: typeof TENANT_BINDING | typeof AUTH_BINDING) => hostCookieName(config, name);

export type SetBindingCookieOptions = { response: NextResponse; config: Pick<TConfig, 'publicScheme'>; name: typeof TENANT_BINDING | typeof AUTH_BINDING; value: string | null };

export function setBindingCookie({ response, config, name, value }: SetBindingCookieOptions) {
  response.cookies.set(bindingCookieName(config, name), value ?? '', hostCookieOptions(config, value ? FEDERATED_TTL_MS / 1000 : 0));
}
