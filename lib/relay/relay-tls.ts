import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TConfig } from '../env';
import { logger } from '../logger';

export type TRelayTls = { key: Buffer; cert: Buffer; isSelfSigned: boolean };

// The operator's certificate when configured; otherwise one self-signed certificate made once
// (Debian's openssl) under the data dir and reused, so a sending server that pins it keeps working.
export function loadRelayTls(config: TConfig): TRelayTls {
  if (config.SEALPOST_RELAY_TLS_CERT && config.SEALPOST_RELAY_TLS_KEY) {
    return {
      cert: fs.readFileSync(config.SEALPOST_RELAY_TLS_CERT),
      key: fs.readFileSync(config.SEALPOST_RELAY_TLS_KEY),
      isSelfSigned: false,
    };
  }
  const dir = path.join(config.dataDir, 'relay-tls');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // Made in a directory of its own and renamed into place: two processes starting at once never
    // pair one's key with the other's certificate.
    const tmp = fs.mkdtempSync(`${dir}.tmp-`);
    const name = config.SEALPOST_BASE_DOMAIN;
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '3650',
        '-subj',
        `/CN=${name}`,
        '-addext',
        `subjectAltName=DNS:${name}`,
        '-keyout',
        path.join(tmp, 'key.pem'),
        '-out',
        path.join(tmp, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    fs.chmodSync(path.join(tmp, 'key.pem'), 0o600);
    try {
      fs.renameSync(tmp, dir);
      logger.info({ dir }, 'relay: generated a self-signed TLS certificate');
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), isSelfSigned: true };
}
