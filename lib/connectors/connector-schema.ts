import net from 'node:net';
import { z } from 'zod';

export const CONNECTOR_TLS_POLICIES = ['opportunistic', 'required', 'verify'] as const;
export type TConnectorTls = (typeof CONNECTOR_TLS_POLICIES)[number];
// The tenant's default connector: mail to every domain that has none of its own.
export const DEFAULT_CONNECTOR_DOMAIN = '*';

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export const ZConnectorDomain = z
  .string()
  .trim()
  .toLowerCase()
  .refine(
    (d) => d === DEFAULT_CONNECTOR_DOMAIN || (DNS_NAME.test(d) && d.includes('.')),
    "must be a mail domain such as partner.example, or '*' for the tenant's default",
  );

// host, host:port, IPv4, IPv4:port, [IPv6] or [IPv6]:port. Nothing else reaches nodemailer or DNS:
// a path, a URL, credentials or a control character in a host would make it connect elsewhere.
export const ZConnectorHost = z
  .string()
  .trim()
  .toLowerCase()
  .max(300)
  .transform((value, ctx) => {
    const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/.exec(value);
    const host = m?.[1] ?? m?.[2];
    const port = m?.[3] === undefined ? 25 : Number(m[3]);
    const isHostValid =
      host !== undefined && (m?.[1] !== undefined ? net.isIPv6(host) : net.isIPv4(host) || (DNS_NAME.test(host) && !/^[\d.]+$/.test(host)));
    if (!isHostValid || !Number.isInteger(port) || port < 1 || port > 65535) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a host name or IP address with an optional :port (1–65535), e.g. mx.partner.example:25 or [2001:db8::1]:25',
      });
      return z.NEVER;
    }
    return { host, port };
  });

// A certificate name to check: a DNS name (no IP, no wildcard: the certificate may hold a wildcard,
// the name we expect never does).
export const ZTlsName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(DNS_NAME, 'must be a DNS name such as mx.partner.example')
  .refine((n) => n.includes('.'), 'must be a DNS name such as mx.partner.example');

export const ZConnectorInput = z
  .object({
    domain: ZConnectorDomain,
    tls: z.enum(CONNECTOR_TLS_POLICIES, { error: 'must be opportunistic, required or verify' }),
    host: ZConnectorHost.optional(),
    tlsName: ZTlsName.optional(),
    internal: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    // An internal connector carries decrypted mail: only over a checked certificate.
    if (c.internal && c.tls !== 'verify')
      ctx.addIssue({ code: 'custom', path: ['internal'], message: 'only a connector with --tls verify may carry decrypted replies' });
    if (c.tlsName && c.tls !== 'verify')
      ctx.addIssue({ code: 'custom', path: ['tlsName'], message: 'a certificate name is checked only with --tls verify' });
  });
export type TConnectorInput = z.input<typeof ZConnectorInput>;
