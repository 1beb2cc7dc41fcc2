import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { makeTempDir, sampleEml } from './helpers/context';
import { requestAs, startServer, type TServer } from './helpers/server';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';
import { openInstallationDatabase } from './helpers/installation';

// A recipient at the hard stop (100 wrong passcodes in a row) sees a page that says to ask the
// sender, and the sender lifts it through the API with the tenant's key, and nobody else can.
describe('the hard stop, as the recipient and the sender see it', () => {
  let sink: TSmtpSink;
  let server: TServer;
  let dataDir: string;
  let key: string;
  let otherKey: string;
  let messageId: string;
  let token: string;
  let host: string;
  const ask = (accept = 'en') =>
    requestAs(server.port, host, `/r/${token}/passcode`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', 'accept-language': accept },
      body: '',
    });
  const unblock = (auth: string, body: string, id = messageId) =>
    fetch(`${server.origin}/api/v1/messages/${id}/unblock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
      body,
    });

  beforeAll(async () => {
    sink = await startSmtpSink();
    dataDir = makeTempDir();
    const env = { SEALPOST_DATA_DIR: dataDir, SMTP_URL: sink.url, SEALPOST_OUTBOX_POLL_MS: '100', SEALPOST_DEMO_TENANT: 'off' };
    server = await startServer(env);
    expect(runCli(['tenant', 'create', 'acme', '--name', 'Acme Bank', '--domain', 'acme.example'], env).status).toBe(0);
    expect(runCli(['tenant', 'create', 'other', '--name', 'Other', '--domain', 'other.example'], env).status).toBe(0);
    key = runCli(['apikey', 'create', '--tenant', 'acme'], env).json.key;
    otherKey = runCli(['apikey', 'create', '--tenant', 'other'], env).json.key;
    const file = path.join(dataDir, 'm.eml');
    fs.writeFileSync(file, sampleEml({ to: ['erin@example.org'] }));
    messageId = runCli(['send', '--tenant', 'acme', file], env).json.messageId;
    const [mail] = await sink.waitFor(1);
    token = /href="http:\/\/[^"]+\/r\/([^"]+)"/.exec(String(mail!.parsed.html))![1]!;
    host = `acme.localhost:${server.port}`;
    // Where 100 wrong passcodes in a row leave a recipient (their pacing is tested in passcode-limits).
    const db = openInstallationDatabase(env);
    await db
      .updateTable('recipients')
      .set({ passcode_failures: 100, passcode_blocked_at: Date.now() })
      .where('message_id', '=', messageId)
      .execute();
    await db.destroy();
  });
  afterAll(async () => {
    await server?.stop();
    await sink?.close();
  });

  it('the recipient gets a 403 page that says to ask the sender, in their language, and no passcode mail', async () => {
    const before = sink.mails.length;
    const res = await ask();
    expect(res.status).toBe(403);
    expect(res.body).toContain('Sign-in is blocked');
    expect(res.body).toContain('Ask the sender to let you sign in again.');
    expect((await ask('zh-TW')).body).toContain('登入已封鎖');
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.mails.length).toBe(before);
  });

  it("another tenant's key, a bad body or an unknown message change nothing", async () => {
    expect((await unblock(otherKey, JSON.stringify({ address: 'erin@example.org' }))).status).toBe(404);
    expect((await unblock(key, 'not json')).status).toBe(400);
    expect((await unblock(key, JSON.stringify({ address: 'erin@example.org' }), '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await unblock('sp_wrong', JSON.stringify({ address: 'erin@example.org' }))).status).toBe(401);
    expect((await ask()).status).toBe(403);
  });

  it('the sender lifts it with their API key, and a passcode is sent again', async () => {
    const res = await unblock(key, JSON.stringify({ address: 'Erin@Example.org' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ messageId, wasBlocked: true });
    expect((await ask()).status).toBe(303);
    const mails = await sink.waitFor(2);
    expect(mails[1]!.rcptTo).toEqual(['erin@example.org']);
  });
});
