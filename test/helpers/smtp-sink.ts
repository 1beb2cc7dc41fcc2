import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type TReceivedMail = { rcptTo: string[]; mailFrom: string; raw: Buffer; parsed: ParsedMail };

export type TSmtpSink = {
  port: number;
  url: string;
  mails: TReceivedMail[];
  // Answer every DATA with this SMTP reply code (e.g. 451, 550) instead of accepting.
  failWith: number | null;
  // Hold each mail this long before answering, to catch a sender in the middle of a batch.
  delayMs: number;
  // DATA commands begun (a mail counts here while it is still being sent or held).
  started: number;
  waitFor(count: number, timeoutMs?: number): Promise<TReceivedMail[]>;
  close(): Promise<void>;
};

// A real SMTP server on loopback that keeps every mail it accepts, parsed with mailparser.
export async function startSmtpSink(port = 0): Promise<TSmtpSink> {
  const mails: TReceivedMail[] = [];
  const sink = { failWith: null as number | null, delayMs: 0, started: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      sink.started += 1;
      const chunks: Buffer[] = [];
      // A sender killed mid-DATA (the outbox crash test) ends the stream with an error: that mail is simply not kept.
      stream.on('error', () => {});
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (sink.delayMs) await new Promise((r) => setTimeout(r, sink.delayMs));
        if (sink.failWith) {
          const err = Object.assign(new Error(sink.failWith >= 500 ? 'mailbox unavailable' : 'try again later'), {
            responseCode: sink.failWith,
          });
          return callback(err);
        }
        const raw = Buffer.concat(chunks);
        mails.push({
          raw,
          parsed: await simpleParser(raw),
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        });
        callback();
      });
    },
  });
  // A reset connection is the sender's problem (a killed worker), never the test process's.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.server.address() as AddressInfo).port;
  return Object.assign(sink, {
    port: actualPort,
    url: `smtp://127.0.0.1:${actualPort}`,
    mails,
    waitFor: (count: number, timeoutMs = 20_000) => waitForMails(mails, count, timeoutMs),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

// Resolves with the list once it holds `count` mails.
async function waitForMails<T>(mails: T[], count: number, timeoutMs: number): Promise<T[]> {
  const start = Date.now();
  while (mails.length < count) {
    if (Date.now() - start > timeoutMs) throw new Error(`expected ${count} mails, got ${mails.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return mails;
}

export type TDigestedMail = { rcptTo: string[]; mailFrom: string; bytes: number; sha256: string };
export type TDigestSink = {
  url: string;
  mails: TDigestedMail[];
  // How many of the next mails to keep whole (in `kept`), for a closer look; the rest only as digests.
  keep: number;
  kept: Buffer[];
  waitFor(count: number, timeoutMs?: number): Promise<TDigestedMail[]>;
  close(): Promise<void>;
};

// A real SMTP server on loopback for large mail: it hashes each mail as it streams in and keeps
// only those it is asked to whole, so ten 45 MB wrappers do not weigh on the test process.
export async function startDigestSink(): Promise<TDigestSink> {
  const sink: TDigestSink = { url: '', mails: [], keep: 0, kept: [], waitFor: async () => [], close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const hash = crypto.createHash('sha256');
      const chunks: Buffer[] | null = sink.keep > 0 ? [] : null;
      if (chunks) sink.keep -= 1;
      let bytes = 0;
      stream.on('error', () => {});
      stream.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
        chunks?.push(c);
      });
      stream.on('end', () => {
        if (chunks) sink.kept.push(Buffer.concat(chunks));
        sink.mails.push({
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          bytes,
          sha256: hash.digest('hex'),
        });
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  sink.waitFor = (count, timeoutMs = 60_000) => waitForMails(sink.mails, count, timeoutMs);
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}
