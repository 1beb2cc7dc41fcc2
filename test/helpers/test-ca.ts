import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type TLeaf = { key: string; cert: string };
export type TTestCa = { dir: string; caFile: string; ca: string; leaf(name: string, o?: { days?: number; san?: string }): TLeaf };

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

// A throwaway certificate authority made with Debian's openssl, under a temporary directory.
export function createTestCa(dir: string, name = 'Sealpost Test CA'): TTestCa {
  fs.mkdirSync(dir, { recursive: true });
  const base = name.replace(/\W+/g, '-').toLowerCase();
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ],
    dir,
  );
  let serial = 0;
  return {
    dir,
    caFile: path.join(dir, `${base}.pem`),
    ca: fs.readFileSync(path.join(dir, `${base}.pem`), 'utf8'),
    // days < 0: a certificate whose validity ended before now (an expired one).
    leaf(cn, { days = 2, san = `DNS:${cn}` } = {}) {
      serial += 1;
      const f = `${base}-leaf${serial}`;
      openssl(
        [
          'req',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          `${f}.key`,
          '-out',
          `${f}.csr`,
          '-subj',
          `/CN=${cn}`,
        ],
        dir,
      );
      fs.writeFileSync(path.join(dir, `${f}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${f}.csr`,
          '-CA',
          `${base}.pem`,
          '-CAkey',
          `${base}.key`,
          '-set_serial',
          String(1000 + serial),
          '-days',
          String(days),
          '-extfile',
          `${f}.ext`,
          '-out',
          `${f}.pem`,
        ],
        dir,
      );
      return { key: fs.readFileSync(path.join(dir, `${f}.key`), 'utf8'), cert: fs.readFileSync(path.join(dir, `${f}.pem`), 'utf8') };
    },
  };
}

export type TTlsReceivedMail = {
  rcptTo: string[];
  mailFrom: string;
  raw: Buffer;
  parsed: ParsedMail;
  secure: boolean;
  protocol: string | null;
};

export type TTlsSink = {
  port: number;
  mails: TTlsReceivedMail[];
  waitFor(count: number, timeoutMs?: number): Promise<TTlsReceivedMail[]>;
  close(): Promise<void>;
};

export type StartTlsSinkOptions = {
  // Omitted: the sink offers no STARTTLS at all.
  leaf?: TLeaf;
  // e.g. TLSv1.1 for a server stuck on an old protocol.
  maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
};

// A real SMTP server on loopback that offers STARTTLS with the given certificate, and keeps each
// mail with whether it came over TLS and which protocol.
export async function startTlsSink({ leaf, maxVersion }: StartTlsSinkOptions = {}): Promise<TTlsSink> {
  const mails: TTlsReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: leaf ? ['AUTH'] : ['STARTTLS', 'AUTH'],
    logger: false,
    ...(leaf ? { key: leaf.key, cert: leaf.cert } : {}),
    // TLS 1.0/1.1 need OpenSSL's security level 0 to be offered at all.
    ...(maxVersion === 'TLSv1.1' ? { minVersion: 'TLSv1', maxVersion, ciphers: 'DEFAULT@SECLEVEL=0' } : maxVersion ? { maxVersion } : {}),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('error', () => {});
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks);
        const tlsOptions = (session as unknown as { tlsOptions?: { version?: string } | false }).tlsOptions;
        mails.push({
          raw,
          parsed: await simpleParser(raw),
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          secure: session.secure,
          protocol: tlsOptions ? (tlsOptions.version ?? null) : null,
        });
        callback();
      });
    },
  } as ConstructorParameters<typeof SMTPServer>[0]);
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    async waitFor(count, timeoutMs = 20_000) {
      const start = Date.now();
      while (mails.length < count) {
        if (Date.now() - start > timeoutMs) throw new Error(`expected ${count} mails, got ${mails.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return mails;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
