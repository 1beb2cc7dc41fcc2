import fs from 'node:fs';
import path from 'node:path';
import { DomUtils, parseDocument } from 'htmlparser2';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@/lib/errors';
import { listMailbox } from '@/lib/mail/mailbox/list-mailbox';
import { readMailboxMail } from '@/lib/mail/mailbox/read-mailbox-mail';
import { mailboxDir } from '@/lib/mail/transport';
import { runCli } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { requestAs, startServer, type TServer } from './helpers/server';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

const UNKNOWN_ID = '1700000000000-00000000-0000-4000-8000-000000000000';

// The ids the mailbox transport has finished writing (the .json sidecar comes after the .eml).
const deliveredIds = (dataDir: string) =>
  fs.existsSync(mailboxDir(dataDir))
    ? fs
        .readdirSync(mailboxDir(dataDir))
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .sort()
    : [];

async function waitForMailbox(dataDir: string, count: number, timeoutMs = 20_000): Promise<string[]> {
  const start = Date.now();
  for (;;) {
    const ids = deliveredIds(dataDir);
    if (ids.length >= count) return ids;
    if (Date.now() - start > timeoutMs) throw new Error(`expected ${count} mails in the local mailbox, got ${ids.length}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const emlPath = (dataDir: string, id: string) => path.join(mailboxDir(dataDir), `${id}.eml`);

describe('the local mailbox (no SMTP_URL)', () => {
  let server: TServer;
  let dataDir: string;
  let ids: string[];
  const get = (p: string) => requestAs(server.port, `localhost:${server.port}`, p);

  beforeAll(async () => {
    dataDir = makeTempDir();
    // SMTP_URL empty counts as unset, whatever the surrounding environment holds.
    const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: '', SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
    server = await startServer(env);
    const created = runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], env);
    expect(created.status, created.stderr).toBe(0);
    const file = path.join(dataDir, 'statement.eml');
    fs.writeFileSync(file, sampleEml());
    const sent = runCli(['send', '--tenant', 'acme', file], env);
    expect(sent.status, sent.stderr).toBe(0);
    // The server's own outbox worker delivers into the mailbox directory.
    ids = await waitForMailbox(dataDir, 2);
  });
  afterAll(() => server?.stop());

  it('lists both wrapper mails, newest first, with their subject and recipient', async () => {
    const res = await get('/mailbox');
    expect(res.status).toBe(200);
    expect(res.body).toContain('Local mailbox');
    expect(res.body).toContain('no SMTP server is configured');
    const doc = parseDocument(res.body);
    const items = DomUtils.findAll((e) => e.name === 'li', doc.children);
    expect(items).toHaveLength(2);
    const hrefs = items.map((li) => DomUtils.findOne((e) => e.name === 'a', li.children)?.attribs.href);
    expect(hrefs).toEqual([...ids].reverse().map((id) => `/mailbox/${id}`));
    const texts = items.map((li) => DomUtils.textContent(li));
    for (const t of texts) {
      expect(t).toContain('Your statement');
      expect(t).toContain('From Alice Example <alice@acme.example>');
    }
    expect(texts.join('\n')).toContain('bob@gmail.com');
    expect(texts.join('\n')).toContain('carol@yahoo.com');
  });

  it('shows a mail: the wrapper in a sandboxed frame (no scripts, forms or same origin), its text part as text, and message.html listed', async () => {
    const id = ids[0]!;
    const res = await get(`/mailbox/${id}`);
    expect(res.status).toBe(200);
    const doc = parseDocument(res.body);
    expect(DomUtils.textContent(DomUtils.findOne((e) => e.name === 'h1', doc.children)!)).toBe('Your statement');

    // The HTML part lives only in the srcdoc of a sandboxed frame, never in the page; its links may
    // open a new tab (to follow "Read the message"), nothing else is allowed.
    const frames = DomUtils.findAll((e) => e.name === 'iframe', doc.children);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.attribs.sandbox).toBe('allow-popups allow-popups-to-escape-sandbox');
    expect(frames[0]!.attribs.srcdoc).toContain('<base target="_blank">');
    expect(frames[0]!.attribs.srcdoc).toContain('Read the message');
    const pageLinks = DomUtils.findAll((e) => e.name === 'a', doc.children).map((a) => a.attribs.href ?? '');
    expect(pageLinks.filter((href) => href.includes('/r/'))).toEqual([]);
    expect(DomUtils.findAll((e) => e.name === 'form' || e.name === 'button', doc.children)).toEqual([]);

    // The text part's read link is there to copy, as plain text.
    const pre = DomUtils.findOne((e) => e.name === 'pre', doc.children);
    expect(DomUtils.textContent(pre!)).toMatch(/http:\/\/acme\.localhost:\d+\/r\/\S+/);

    const download = DomUtils.findAll((e) => e.name === 'a', doc.children).find((a) => DomUtils.textContent(a) === 'message.html');
    expect(download?.attribs.href).toBe(`/mailbox/${id}/attachments/0`);
    expect(DomUtils.textContent(download!.parent!)).toContain('text/html');
  });

  it('serves an attachment as a download with nosniff, never as HTML, with its exact bytes', async () => {
    const id = ids[1]!;
    const expected = (await simpleParser(fs.readFileSync(emlPath(dataDir, id)))).attachments.find((a) => a.filename === 'message.html')!;
    expect(expected.content.length).toBeGreaterThan(100);
    const res = await fetch(`${server.origin}/mailbox/${id}/attachments/0`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="message.html"; filename*=UTF-8''message.html`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await res.arrayBuffer()).equals(expected.content)).toBe(true);
  });

  it('answers 404 to malformed, traversing and unknown ids, and to a missing attachment', async () => {
    // A valid mail planted next to the mailbox: reading it would prove the id reached the file system.
    fs.copyFileSync(emlPath(dataDir, ids[0]!), path.join(dataDir, 'planted.eml'));
    const paths = [
      '/mailbox/../../etc/passwd',
      '/mailbox/..%2f..%2fetc%2fpasswd',
      '/mailbox/..%2f..%2fsealpost.db',
      '/mailbox/..%2fplanted',
      '/mailbox/%2e%2e%2fplanted',
      `/mailbox/${UNKNOWN_ID}`,
      `/mailbox/${ids[0]!.toUpperCase()}`,
      `/mailbox/${ids[0]}.eml`,
      `/mailbox/..%2fplanted/attachments/0`,
      `/mailbox/${UNKNOWN_ID}/attachments/0`,
      `/mailbox/${ids[0]}/attachments/1`,
      `/mailbox/${ids[0]}/attachments/-1`,
      `/mailbox/${ids[0]}/attachments/0x0`,
    ];
    for (const p of paths) {
      const res = await get(p);
      expect(res.status, p).toBe(404);
      expect(res.body, p).not.toContain('Your statement');
      expect(res.body, p).not.toContain('Read the message');
    }
    // The gate is the id itself, before any path is built: a traversing id never reaches the disk.
    for (const id of ['../planted', '..%2fplanted', '../../etc/passwd', `${ids[0]}/../../planted`, `${ids[0]}\n`]) {
      const error = await readMailboxMail({ dataDir, id }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAppError(error) && error.code, id).toBe('NOT_FOUND');
    }
    expect((await readMailboxMail({ dataDir, id: ids[0]! })).subject).toBe('Your statement');
  });

  it('is served on the base host only, never on a tenant host', async () => {
    const res = await requestAs(server.port, `acme.localhost:${server.port}`, '/mailbox');
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('Local mailbox');
    expect((await requestAs(server.port, `acme.localhost:${server.port}`, `/mailbox/${ids[0]}/attachments/0`)).status).toBe(404);
  });
});

describe('listMailbox', () => {
  it('returns the newest 200 mails first and ignores every other file', async () => {
    const dataDir = makeTempDir();
    const dir = mailboxDir(dataDir);
    fs.mkdirSync(dir, { recursive: true });
    const start = 1_800_000_000_000;
    for (let i = 0; i < 205; i++) {
      const id = `${start + i}-00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      fs.writeFileSync(
        path.join(dir, `${id}.eml`),
        `From: a@acme.example\r\nTo: b${i}@example.org\r\nSubject: mail ${i}\r\n\r\nbody ${i}\r\n`,
      );
    }
    for (const stray of ['notes.eml', '9999999999999-zzzz.eml', '1900000000000-00000000-0000-4000-8000-000000000000.json', '.hidden.eml']) {
      fs.writeFileSync(path.join(dir, stray), 'Subject: stray\r\n\r\n');
    }
    const list = await listMailbox({ dataDir });
    expect(list).toHaveLength(200);
    expect(list[0]).toMatchObject({
      subject: 'mail 204',
      to: 'b204@example.org',
      from: 'a@acme.example',
      date: new Date(start + 204).toISOString(),
    });
    expect(list.at(-1)!.subject).toBe('mail 5');
    expect(list.map((m) => m.subject)).not.toContain('stray');
  });

  it('is empty before the first mail', async () => {
    expect(await listMailbox({ dataDir: makeTempDir() })).toEqual([]);
  });
});

describe('the local mailbox with SMTP_URL set', () => {
  let sink: TSmtpSink;
  let server: TServer;

  beforeAll(async () => {
    sink = await startSmtpSink();
    const dataDir = makeTempDir();
    // Mail on disk, so only the SMTP_URL gate stands between a request and its content.
    const dir = mailboxDir(dataDir);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${UNKNOWN_ID}.eml`), sampleEml());
    server = await startServer({ SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_DEMO_TENANT: 'off' });
  });
  afterAll(async () => {
    await server?.stop();
    await sink?.close();
  });

  it('has no mailbox: every mailbox path answers 404', async () => {
    for (const p of ['/mailbox', `/mailbox/${UNKNOWN_ID}`, `/mailbox/${UNKNOWN_ID}/attachments/0`]) {
      const res = await requestAs(server.port, `localhost:${server.port}`, p);
      expect(res.status, p).toBe(404);
      expect(res.body, p).not.toContain('Local mailbox');
      expect(res.body, p).not.toContain('Your statement');
    }
  });
});

describe("the local mailbox is the embedded default's, for this machine only", () => {
  const dataDir = makeTempDir();
  const base = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: '', SEALPOST_DEMO_TENANT: 'off' };

  it('is not served to a request that a proxy relayed, or that claims to be local', async () => {
    const server = await startServer(base);
    try {
      expect((await requestAs(server.port, `localhost:${server.port}`, '/mailbox')).status).toBe(200);
      const relayed: Array<Record<string, string>> = [
        { 'x-forwarded-for': '203.0.113.9' },
        { forwarded: 'for=203.0.113.9' },
        { 'x-real-ip': '203.0.113.9' },
        { 'x-forwarded-for': '127.0.0.1', 'x-sealpost-local': '1' },
      ];
      for (const headers of relayed) {
        const res = await requestAs(server.port, `localhost:${server.port}`, '/mailbox', { headers });
        expect(res.status, JSON.stringify(headers)).toBe(404);
        expect(res.body).not.toContain('Local mailbox');
      }
    } finally {
      await server.stop();
    }
  });

  it('behind a trusted proxy, only a client on this machine reads it', async () => {
    const server = await startServer({ ...base, SEALPOST_TRUSTED_PROXIES: 'loopback' });
    try {
      const remote = await requestAs(server.port, `localhost:${server.port}`, '/mailbox', {
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      expect(remote.status).toBe(404);
      expect(
        (await requestAs(server.port, `localhost:${server.port}`, '/mailbox', { headers: { 'x-forwarded-for': '127.0.0.1' } })).status,
      ).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('a real deployment without SMTP_URL refuses to start, saying why; SEALPOST_MAILBOX=on keeps the mailbox, local only', async () => {
    const refused = await startServer({ ...base, SEALPOST_BASE_DOMAIN: 'mail.example.test' }).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(refused).toContain('SMTP_URL: required when SEALPOST_BASE_DOMAIN is not localhost');
    expect(refused).toContain('SEALPOST_MAILBOX=on');
    const server = await startServer({ ...base, SEALPOST_BASE_DOMAIN: 'mail.example.test', SEALPOST_MAILBOX: 'on' });
    try {
      expect((await requestAs(server.port, 'mail.example.test', '/mailbox')).status).toBe(200);
      expect(
        (await requestAs(server.port, 'mail.example.test', '/mailbox', { headers: { 'x-forwarded-for': '203.0.113.9' } })).status,
      ).toBe(404);
    } finally {
      await server.stop();
    }
  });

  it('a real deployment (SMTP_URL set, SEALPOST_MAILBOX left off) has no mailbox', async () => {
    const server = await startServer({ ...base, SEALPOST_BASE_DOMAIN: 'mail.example.test', SMTP_URL: 'smtp://127.0.0.1:9' });
    try {
      expect((await requestAs(server.port, 'mail.example.test', '/mailbox')).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});
