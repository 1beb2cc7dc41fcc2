import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { TConnectorTable } from '../store/schema';

// Forward-secret suites only (ECDHE/DHE with AEAD, and every TLS 1.3 suite): a server key stolen
// later must not decrypt mail recorded today.
export const FORWARD_SECRET_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES128-GCM-SHA256',
].join(':');

// TLS 1.0 and 1.1 are refused everywhere (downgrade and BEAST-era attacks on the old protocols).
export const SECURE_TLS = { minVersion: 'TLSv1.2', ciphers: FORWARD_SECRET_CIPHERS } as const;

export type TNodemailerTlsOptions = {
  requireTLS: boolean;
  ignoreTLS: boolean;
  opportunisticTLS: boolean;
  tls: tls.ConnectionOptions;
};

export type BuildConnectorTlsOptions = { connector: Pick<TConnectorTable, 'tls' | 'tls_name'>; host: string; caFile?: string };

// Postfix's may / encrypt / verify as nodemailer options.
export function buildConnectorTls({ connector, host, caFile }: BuildConnectorTlsOptions): TNodemailerTlsOptions {
  if (connector.tls === 'opportunistic') {
    // STARTTLS when offered (a refused STARTTLS goes on in clear, as the server asked); the
    // certificate is not checked, as it could not be without a policy saying whose it should be.
    return { requireTLS: false, ignoreTLS: false, opportunisticTLS: true, tls: { ...SECURE_TLS, rejectUnauthorized: false } };
  }
  if (connector.tls === 'required') {
    // Never in clear: no STARTTLS, or a failed one, ends the session before MAIL FROM.
    return { requireTLS: true, ignoreTLS: false, opportunisticTLS: false, tls: { ...SECURE_TLS, rejectUnauthorized: false } };
  }
  // verify: the chain to a trusted CA and the expected name, or no session (stops a man in the
  // middle presenting any certificate at all).
  const servername = connector.tls_name ?? host;
  const ca = [...trustedRoots(), ...(caFile ? [fs.readFileSync(caFile, 'utf8')] : [])];
  return {
    requireTLS: true,
    ignoreTLS: false,
    opportunisticTLS: false,
    tls: {
      ...SECURE_TLS,
      rejectUnauthorized: true,
      ...(net.isIP(servername) ? {} : { servername }),
      ca,
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(servername, cert),
    },
  };
}

let roots: string[] | undefined;
// Node's bundled Mozilla roots plus the operating system's store (where an organisation installs
// its own CA), read once.
function trustedRoots(): string[] {
  if (!roots) {
    let system: string[] = [];
    try {
      system = tls.getCACertificates('system');
    } catch {
      system = [];
    }
    roots = [...new Set([...tls.getCACertificates('default'), ...system])];
  }
  return roots;
}
