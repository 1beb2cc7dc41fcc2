import dns from 'node:dns/promises';
import nodemailer from 'nodemailer';
import { openMailSource, type TMailSource } from '../mail/mail-source';
import type { TDeliveryFailure } from '../mail/outbox';
import type { TSendResult } from '../mail/transport';
import type { TConnectorTable } from '../store/schema';
import { buildConnectorTls } from './connector-tls';
import { formatConnectorHost } from './list-connectors';

// A composed mail is opened anew for each hop tried.
export type TConnectorMail = { from: string; to: string; raw: TMailSource };

export type SendOverConnectorOptions = { connector: TConnectorTable; mail: TConnectorMail; caFile?: string };

export type TConnectorOutcome = { kind: 'sent'; info: TSendResult } | { kind: 'failed'; failure: TDeliveryFailure };

type THop = { host: string; port: number };

// One mail over one connector: its host (or the recipient domain's MX hosts, best first), under its
// TLS policy. A TLS requirement not met is a deferral, never a bounce and never a send in clear.
export async function sendOverConnector({ connector, mail, caFile }: SendOverConnectorOptions): Promise<TConnectorOutcome> {
  const domain = mail.to.slice(mail.to.lastIndexOf('@') + 1);
  const hops = connector.host ? ({ hops: [{ host: connector.host, port: connector.port ?? 25 }] } as const) : await resolveHops(domain);
  if ('failure' in hops) return { kind: 'failed', failure: hops.failure };
  let last: TDeliveryFailure = { permanent: false, reason: 'no host to deliver to' };
  for (const hop of hops.hops) {
    let tlsOptions: ReturnType<typeof buildConnectorTls>;
    try {
      tlsOptions = buildConnectorTls({ connector, host: hop.host, caFile });
    } catch (error) {
      // An unreadable CA bundle must not turn verify into no check at all.
      return {
        kind: 'failed',
        failure: tlsFailure(connector, hop, `connector CA file unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'})`),
      };
    }
    const transporter = nodemailer.createTransport({
      host: hop.host,
      port: hop.port,
      secure: false,
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 120_000,
      ...tlsOptions,
    });
    try {
      const info = await transporter.sendMail({ envelope: { from: mail.from, to: [mail.to] }, raw: openMailSource(mail.raw) });
      return {
        kind: 'sent',
        info: {
          accepted: (info.accepted ?? []).map(String),
          rejected: (info.rejected ?? []).map(String),
          envelopeTo: (info.envelope?.to ?? []).map(String),
          response: String(info.response ?? ''),
        },
      };
    } catch (error) {
      const e = error as {
        code?: string;
        originalCode?: string;
        command?: string;
        responseCode?: number;
        response?: string;
        message?: string;
      };
      if (isTlsError(e)) {
        last = tlsFailure(
          connector,
          hop,
          String(e.message ?? '')
            .replace(/\s+/g, ' ')
            .slice(0, 300),
        );
        continue;
      }
      // The server answered the transaction itself: its verdict stands, no other MX is tried.
      if (typeof e.responseCode === 'number') {
        return {
          kind: 'failed',
          failure: {
            permanent: e.responseCode >= 500,
            reason: `${e.responseCode} ${String(e.response ?? '')
              .replace(/\s+/g, ' ')
              .slice(0, 200)}`,
          },
        };
      }
      last = { permanent: false, reason: `${e.code ?? 'ERROR'} ${formatConnectorHost(hop)}: ${String(e.message ?? '').slice(0, 200)}` };
    } finally {
      transporter.close();
    }
  }
  return { kind: 'failed', failure: last };
}

// STARTTLS refused or missing when required (nodemailer's ETLS, or for a server without EHLO a
// refusal of the required STARTTLS), a handshake that failed (old protocol, no common cipher:
// OpenSSL's ERR_SSL_*), a certificate that did not verify (Node's ERR_TLS_* and X.509 codes);
// the last two reach nodemailer as socket errors that keep the original code.
const TLS_ERROR_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_|HOSTNAME_MISMATCH|INVALID_CA|ERR_OSSL_)/;
export const isTlsError = (e: { code?: string; originalCode?: string; command?: string; message?: string }) =>
  e.code === 'ETLS' ||
  e.command === 'STARTTLS' ||
  /required STARTTLS/.test(String(e.message ?? '')) ||
  TLS_ERROR_CODE.test(e.originalCode ?? '') ||
  TLS_ERROR_CODE.test(e.code ?? '');

const tlsFailure = (connector: TConnectorTable, hop: THop, detail: string): TDeliveryFailure => ({
  permanent: false,
  reason: `TLS ${connector.tls} not met at ${formatConnectorHost(hop)}: ${detail}`.slice(0, 500),
  tls: { policy: connector.tls, host: formatConnectorHost(hop), domain: connector.domain },
});

async function resolveHops(domain: string): Promise<{ hops: THop[] } | { failure: TDeliveryFailure }> {
  try {
    const mx = (await dns.resolveMx(domain)).sort((a, b) => a.priority - b.priority);
    // RFC 7505 null MX: the domain receives no mail at all.
    if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.'))
      return { failure: { permanent: true, reason: `${domain} accepts no mail (null MX)` } };
    return { hops: mx.map((m) => ({ host: m.exchange.toLowerCase().replace(/\.$/, ''), port: 25 })) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // RFC 5321 5.1: no MX record, the domain itself is the host.
    if (code === 'ENODATA') return { hops: [{ host: domain, port: 25 }] };
    if (code === 'ENOTFOUND') return { failure: { permanent: true, reason: `${domain} does not exist (DNS)` } };
    return { failure: { permanent: false, reason: `DNS lookup of ${domain} failed: ${code ?? 'error'}` } };
  }
}
