import type { TConfig } from '../../env';
import { publicOrigin } from '../../tenants/tenants';

// Federated sign-in has one home for every tenant: the auth host (auth.<base domain>). Each
// provider is registered once, with one redirect URI there, whatever tenant host a reader is on.
export const authOrigin = (config: Pick<TConfig, 'authHost' | 'publicScheme' | 'publicPort'>) => publicOrigin(config, config.authHost);

// The redirect URI to register with a provider.
export const callbackUrl = (config: Pick<TConfig, 'authHost' | 'publicScheme' | 'publicPort'>, providerId: string) =>
  `${authOrigin(config)}/api/auth/callback/${providerId}`;

// Whether a request's Host header names the auth host (with or without a port).
export const isAuthHost = (config: Pick<TConfig, 'authHost'>, host: string | null) =>
  (host ?? '').toLowerCase().replace(/:\d{1,5}$/, '') === config.authHost;
