import dns from 'node:dns';
import type { TConfig } from '../env';
import { tenantHost, type TTenant } from './tenants';

// The DNS lookups the check makes, as node:dns's Resolver answers them (injectable for tests).
export type TDomainResolver = {
  resolveCname(name: string): Promise<string[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
};

const DEFAULT_TIMEOUT_MS = 3_000;

// One try per name, each bounded: the page waits seconds at most for a slow DNS server.
export const systemDomainResolver = (timeoutMs = DEFAULT_TIMEOUT_MS): TDomainResolver & { cancel(): void } =>
  new dns.promises.Resolver({ timeout: timeoutMs, tries: 1 });

// The record the tenant creates: a CNAME from its domain to the service's host.
export const customDomainTarget = (
  config: Pick<TConfig, 'SEALPOST_BASE_DOMAIN' | 'SEALPOST_CNAME_TARGET'>,
  tenant: Pick<TTenant, 'slug'>,
) => config.SEALPOST_CNAME_TARGET ?? tenantHost(config, tenant);

export type TDomainCheck =
  // The CNAME names the target, or (an apex with a flattened ALIAS) it has the target's addresses.
  { state: 'ok'; via: 'cname' | 'address' } | { state: 'elsewhere'; found: string[] } | { state: 'missing' } | { state: 'unanswered' };

export type CheckCustomDomainOptions = { domain: string; target: string; resolver?: TDomainResolver; timeoutMs?: number };

const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');
// NODATA / NXDOMAIN are answers ("none"); anything else (a timeout, a refused query) is not.
const none = (error: unknown) => ['ENODATA', 'ENOTFOUND'].includes((error as { code?: string }).code ?? '');
const orNone = (lookup: Promise<string[]>) => lookup.catch((error) => (none(error) ? [] : Promise.reject(error)));

// Whether the custom domain resolves to the service now. Bounded: past timeoutMs (or a DNS
// server that does not answer), the answer is 'unanswered', never a hung page.
export async function checkCustomDomain({
  domain,
  target,
  resolver = systemDomainResolver(),
  timeoutMs = DEFAULT_TIMEOUT_MS,
}: CheckCustomDomainOptions): Promise<TDomainCheck> {
  const lookups = async (): Promise<TDomainCheck> => {
    const cnames = (await orNone(resolver.resolveCname(domain))).map(norm);
    if (cnames.includes(norm(target))) return { state: 'ok', via: 'cname' };
    const [mine, theirs] = await Promise.all(
      [domain, target].map(async (name) => [...(await orNone(resolver.resolve4(name))), ...(await orNone(resolver.resolve6(name)))]),
    );
    if (mine!.length > 0 && mine!.some((a) => theirs!.includes(a))) return { state: 'ok', via: 'address' };
    const found = [...cnames, ...mine!];
    return found.length > 0 ? { state: 'elsewhere', found } : { state: 'missing' };
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<TDomainCheck>((resolve) => {
    timer = setTimeout(() => resolve({ state: 'unanswered' }), timeoutMs);
  });
  try {
    return await Promise.race([lookups().catch((): TDomainCheck => ({ state: 'unanswered' })), timeout]);
  } finally {
    clearTimeout(timer);
    (resolver as Partial<{ cancel(): void }>).cancel?.();
  }
}
