import type { TConfig } from '../../env';
import { hostCookieName } from '../host-cookie';

// A federated sign-in is bound to one browser twice: on the tenant host where it starts and ends,
// and on the auth host where the provider sends the reader back; each cookie is its host's only.
// (lib/http/set-cookies.ts sets them.)
export const TENANT_BINDING = 'sealpost-federated';
export const AUTH_BINDING = 'sealpost-auth-signin';

export const bindingCookieName = (config: Pick<TConfig, 'publicScheme'>, name: typeof TENANT_BINDING | typeof AUTH_BINDING) =>
  hostCookieName(config, name);
