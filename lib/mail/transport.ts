import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { SECURE_TLS } from '../connectors/connector-tls';
import { openMailSource, type TMailSource } from './mail-source';

export type TSendResult = { accepted: string[]; rejected: string[]; envelopeTo: string[]; response: string };
export type TMailTransport = {
  kind: 'smtp' | 'mailbox';
  send(mail: { id: string; from: string; to: string; raw: TMailSource }): Promise<TSendResult>;
  close(): void;
};

export type CreateTransportOptions = { smtpUrl?: string; dataDir: string; maxConnections?: number };

// SMTP_URL set: nodemailer over SMTP. Unset: the local mailbox, one .eml per mail under the
// data dir, which the portal shows so the whole journey can be tried on one machine.
export function createMailTransport({ smtpUrl, dataDir, maxConnections = 1 }: CreateTransportOptions): TMailTransport {
  if (smtpUrl) {
    // The URL's own TLS (smtps://, STARTTLS when offered, its tls.* parameters) as before, at TLS 1.2+.
    // Pooled: a new SMTP session costs a greeting (receivers delay it on purpose) and a handshake;
    // the worker's parallel sends share up to maxConnections sessions, each reused for 100 mails.
    const transporter = nodemailer.createTransport({
      url: smtpUrl,
      tls: { ...SECURE_TLS },
      pool: true,
      maxConnections,
      maxMessages: 100,
    });
    return {
      kind: 'smtp',
      async send({ from, to, raw }) {
        const info = await transporter.sendMail({ envelope: { from, to: [to] }, raw: openMailSource(raw) });
        return {
          accepted: (info.accepted ?? []).map(String),
          rejected: (info.rejected ?? []).map(String),
          envelopeTo: (info.envelope?.to ?? []).map(String),
          response: String(info.response ?? ''),
        };
      },
      close: () => transporter.close(),
    };
  }
  const dir = mailboxDir(dataDir);
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true });
  return {
    kind: 'mailbox',
    async send({ id, from, to, raw }) {
      const info = await transporter.sendMail({ envelope: { from, to: [to] }, raw: openMailSource(raw) });
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const base = path.join(dir, `${Date.now()}-${id}`);
      fs.writeFileSync(`${base}.eml`, info.message as Buffer, { mode: 0o600 });
      fs.writeFileSync(`${base}.json`, JSON.stringify({ from, to }), { mode: 0o600 });
      const envelopeTo = (info.envelope?.to ?? []).map(String);
      return { accepted: envelopeTo, rejected: [], envelopeTo, response: 'stored in local mailbox' };
    },
    close: () => transporter.close(),
  };
}

export const mailboxDir = (dataDir: string) => path.join(dataDir, 'mailbox');
