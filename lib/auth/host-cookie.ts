import type { TConfig } from '../env';

// Every cookie the portal sets belongs to exactly the host that set it: `__Host-` (Secure, no
// Domain, Path=/) on https; plain HTTP (a local trial) cannot carry Secure cookies, so there the
// name is plain.
export const hostCookieName = (config: Pick<TConfig, 'publicScheme'>, name: string) =>
  config.publicScheme === 'https' ? `__Host-${name}` : name;

// HttpOnly, Secure on https, and Lax: sign-ins arrive by top-level navigation from other sites
// (a provider's redirect, a mail link). No maxAge: a browser-session cookie; 0 deletes it.
export const hostCookieOptions = (config: Pick<TConfig, 'publicScheme'>, maxAge?: number) => ({
  httpOnly: true,
  secure: config.publicScheme === 'https',
  sameSite: 'lax' as const,
  path: '/',
  maxAge,
});
