import fs from 'node:fs';
import path from 'node:path';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';

// An empty variable counts as unset, so `FOO=` in a .env file never means "the empty value".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const ZPort = z.coerce.number().int().min(1).max(65535);
const ZHostname = z
  .string()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a DNS host name');

// An OpenID issuer: https, or http on this machine only (a provider under test, a local trial).
export const ZIssuer = z
  .url({ protocol: /^https?$/, error: 'must be an https:// URL' })
  .max(2048)
  .refine((u) => {
    if (!URL.canParse(u)) return false;
    const url = new URL(u);
    return (
      !url.search &&
      !url.hash &&
      !url.username &&
      !url.password &&
      (url.protocol === 'https:' || ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname))
    );
  }, 'must be an https:// URL without query, fragment or credentials (http only on 127.0.0.1, [::1] or localhost)');

// Addresses or CIDR ranges of the operator's reverse proxies (comma or space separated), or
// proxy-addr's names `loopback`, `linklocal`, `uniquelocal`. Anything proxy-addr cannot compile
// is refused at start rather than silently trusting nothing (or everything).
const ZTrustedProxies = z
  .string()
  .transform((v) => v.split(/[\s,]+/).filter(Boolean))
  .refine((list) => {
    try {
      proxyAddr.compile(list);
      return true;
    } catch {
      return false;
    }
  }, 'must be a comma-separated list of IP addresses or CIDR ranges (e.g. 10.0.0.0/8, ::1)');

export const ZEnv = z
  .object({
    PORT: optional(ZPort).default(3000),
    HOST: optional(z.string()).default('127.0.0.1'),
    SEALPOST_BASE_DOMAIN: optional(ZHostname).default('localhost'),
    SEALPOST_PUBLIC_SCHEME: optional(z.enum(['http', 'https'])),
    SEALPOST_PUBLIC_PORT: optional(ZPort),
    SEALPOST_DATA_DIR: optional(z.string()).default('./data'),
    DATABASE_URL: optional(z.string().regex(/^(file:|sqlite:|postgres(ql)?:\/\/)/, 'must start with file:, sqlite: or postgres://')),
    SMTP_URL: optional(z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' })),
    // Extra CAs (PEM) that `--tls verify` connectors trust besides the system's: a private CA.
    SEALPOST_CONNECTOR_CA_FILE: optional(
      z
        .string()
        .max(4096)
        .refine((f) => fs.existsSync(f), 'file not found'),
    ),
    // The local mailbox page (every outbound mail, passcodes included): the embedded default's alone.
    SEALPOST_MAILBOX: optional(z.enum(['on', 'off'])),
    SEALPOST_TRUSTED_PROXIES: optional(ZTrustedProxies),
    SEALPOST_MASTER_KEY: optional(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes in base64url (43 characters)')),
    SEALPOST_MASTER_KEY_PREVIOUS: optional(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes in base64url (43 characters)')),
    SEALPOST_MAX_MESSAGE_BYTES: optional(
      z.coerce
        .number()
        .int()
        .min(1024)
        .max(200 * 1024 * 1024),
    ).default(25 * 1024 * 1024),
    // Distinct To+Cc+Bcc addresses one message may have: each is a wrapper mail sent in the tenant's name.
    SEALPOST_MAX_RECIPIENTS: optional(z.coerce.number().int().min(1).max(10_000)).default(500),
    SEALPOST_WORKER: optional(z.enum(['on', 'off'])).default('on'),
    SEALPOST_OUTBOX_LEASE_SECONDS: optional(z.coerce.number().int().min(1).max(3600)).default(300),
    SEALPOST_OUTBOX_POLL_MS: optional(z.coerce.number().int().min(10).max(60_000)).default(1000),
    // Mails one worker sends at once (over as many pooled SMTP connections); large mail goes fewer at a time.
    SEALPOST_OUTBOX_CONCURRENCY: optional(z.coerce.number().int().min(1).max(100)).default(8),
    // The local part of the address mail Sealpost writes itself is from (passcodes, bounce notices,
    // replies "via" the tenant): <local part>@<tenant mail domain>.
    SEALPOST_SYSTEM_LOCAL_PART: optional(
      z.string().regex(/^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/, 'must be a plain local part such as no-reply'),
    ).default('no-reply'),
    // The envelope sender's domain (MAIL FROM, where bounces go) for mail Sealpost writes; unset:
    // the tenant's mail domain. Its SPF record must allow the outbound servers.
    SEALPOST_BOUNCE_DOMAIN: optional(ZHostname),
    SEALPOST_DEMO_TENANT: optional(z.enum(['on', 'off'])).default('on'),
    // The SMTP relay (lib/relay): a port on HOST's address, or off.
    SEALPOST_RELAY_PORT: optional(z.union([z.literal('off'), ZPort])).default(2525),
    // The operator's certificate and key (PEM files) for STARTTLS; both or neither (then self-signed).
    SEALPOST_RELAY_TLS_CERT: optional(z.string()),
    SEALPOST_RELAY_TLS_KEY: optional(z.string()),
    // Prometheus metrics (GET /metrics) on a listener of their own, or off; loopback unless
    // SEALPOST_METRICS_HOST says otherwise (a scraper on another machine).
    SEALPOST_METRICS_PORT: optional(z.union([z.literal('off'), ZPort])).default('off'),
    SEALPOST_METRICS_HOST: optional(z.union([z.ipv4(), z.ipv6()])).default('127.0.0.1'),
    // The recipient's pages rendered at once by one instance; the rest wait their turn in order
    // (lib/http/page-admission.ts).
    SEALPOST_PAGE_CONCURRENCY: optional(z.coerce.number().int().min(1).max(1000)).default(4),
    SEALPOST_RELAY_MAX_CONNECTIONS: optional(z.coerce.number().int().min(1).max(10_000)).default(100),
    LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),
    // Federated sign-in: one host for every tenant, registered once with each provider.
    SEALPOST_AUTH_HOST: optional(ZHostname),
    // Where a tenant's custom domain points (its CNAME): the service's host; unless set, the
    // tenant's own <slug>.<base domain>.
    SEALPOST_CNAME_TARGET: optional(ZHostname),
    SEALPOST_GOOGLE_CLIENT_ID: optional(z.string().max(512)),
    SEALPOST_GOOGLE_CLIENT_SECRET: optional(z.string().max(512)),
    SEALPOST_GOOGLE_ISSUER: optional(ZIssuer).default('https://accounts.google.com'),
    SEALPOST_MICROSOFT_CLIENT_ID: optional(z.string().max(512)),
    SEALPOST_MICROSOFT_CLIENT_SECRET: optional(z.string().max(512)),
    SEALPOST_MICROSOFT_ISSUER: optional(ZIssuer).default('https://login.microsoftonline.com/common/v2.0'),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.SEALPOST_RELAY_TLS_CERT) !== Boolean(env.SEALPOST_RELAY_TLS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.SEALPOST_RELAY_TLS_CERT ? 'SEALPOST_RELAY_TLS_KEY' : 'SEALPOST_RELAY_TLS_CERT'],
        message: 'set together with the other of SEALPOST_RELAY_TLS_CERT / SEALPOST_RELAY_TLS_KEY',
      });
    }
    // A provider is configured with both halves of its registration or not at all.
    for (const name of ['GOOGLE', 'MICROSOFT'] as const) {
      const id = env[`SEALPOST_${name}_CLIENT_ID`];
      const secret = env[`SEALPOST_${name}_CLIENT_SECRET`];
      if (Boolean(id) !== Boolean(secret)) {
        ctx.addIssue({
          code: 'custom',
          path: [id ? `SEALPOST_${name}_CLIENT_SECRET` : `SEALPOST_${name}_CLIENT_ID`],
          message: `set together with SEALPOST_${name}_${id ? 'CLIENT_ID' : 'CLIENT_SECRET'}`,
        });
      }
    }
  });
export type TEnv = z.infer<typeof ZEnv>;

export type TConfig = TEnv & {
  dataDir: string;
  databaseUrl: string;
  publicScheme: 'http' | 'https';
  publicPort: number | undefined;
  // The central sign-in host: auth.<base domain> unless SEALPOST_AUTH_HOST says otherwise.
  authHost: string;
  // Whether /mailbox is served (still only to this machine): no SMTP_URL, and either the
  // embedded default's base domain or SEALPOST_MAILBOX=on.
  isMailboxOn: boolean;
  trustedProxies: string[];
};

export class ConfigError extends Error {}

// Parses the environment once; a wrong value names the variable and stops the process.
export function parseConfig(env: Record<string, string | undefined> = process.env): TConfig {
  const parsed = ZEnv.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.SEALPOST_DATA_DIR);
  const isLocal = e.SEALPOST_BASE_DOMAIN === 'localhost';
  return {
    ...e,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `file:${path.join(dataDir, 'sealpost.db')}`,
    publicScheme: e.SEALPOST_PUBLIC_SCHEME ?? (isLocal ? 'http' : 'https'),
    publicPort: e.SEALPOST_PUBLIC_PORT ?? (isLocal ? e.PORT : undefined),
    authHost: e.SEALPOST_AUTH_HOST ?? `auth.${e.SEALPOST_BASE_DOMAIN}`,
    isMailboxOn: !e.SMTP_URL && (e.SEALPOST_MAILBOX ?? (isLocal ? 'on' : 'off')) === 'on',
    trustedProxies: e.SEALPOST_TRUSTED_PROXIES ?? [],
  };
}

// A server that would deliver nothing: a real deployment (not the localhost base domain) with no
// SMTP server would only drop mail into the local mailbox. Refused at start unless the operator
// asked for the mailbox explicitly. Returns the reason, or null.
export function mailDeliveryProblem(config: TConfig): string | null {
  if (config.SMTP_URL || config.SEALPOST_BASE_DOMAIN === 'localhost' || config.SEALPOST_MAILBOX === 'on') return null;
  return 'SMTP_URL: required when SEALPOST_BASE_DOMAIN is not localhost (without it mail is only written to the local mailbox, which nobody outside this machine can read); set SMTP_URL, or SEALPOST_MAILBOX=on to keep the local mailbox';
}

let cached: TConfig | undefined;
export function getConfig(): TConfig {
  cached ??= parseConfig();
  return cached;
}
