import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelayCredential } from '@/lib/relay/relay-credentials';
import { startCli, stopChild } from './helpers/cli';
import { createTestContext, seedTenant, type TTestContext } from './helpers/context';
import { freePort } from './helpers/server';
import { RawSmtp } from './helpers/smtp-client';
import { startSmtpSink, type TSmtpSink } from './helpers/smtp-sink';

let ctx: TTestContext;
let sink: TSmtpSink;
let credential: { username: string; password: string };
const children: ChildProcess[] = [];

// `sealpost relay` as an operator runs it, on a port of its own; resolves once it greets.
async function startRelayProcess(env: Record<string, string>) {
  const port = await freePort();
  const child = startCli(['relay'], { ...ctx.cliEnv, HOST: '127.0.0.1', SEALPOST_RELAY_PORT: String(port), SMTP_URL: sink.url, ...env });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`relay exited: ${stderr}`);
    try {
      const { client, greeting } = await RawSmtp.connect(port);
      client.close();
      if (greeting.code === 220) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30_000) throw new Error(`relay did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child };
}

const peakRssKb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

beforeAll(async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext();
  const tenant = await seedTenant(ctx);
  credential = await createRelayCredential({ db: ctx.db, tenant });
});

afterAll(async () => {
  for (const c of children) await stopChild(c, 'SIGKILL');
  await sink?.close();
  await ctx?.close();
});

describe('sealpost relay (a child process)', () => {
  it('answers a 30 MB message 552 without holding it in memory', async () => {
    // The limit a deployment sets; the message is more than seven times larger.
    const { port, child } = await startRelayProcess({ SEALPOST_MAX_MESSAGE_BYTES: String(4 * 1024 * 1024), SEALPOST_WORKER: 'off' });
    const { client } = await RawSmtp.connect(port);
    await client.command('EHLO mail.acme.example');
    expect((await client.authPlain(credential.username, credential.password)).code).toBe(235);
    // A warm-up message, so the baseline includes everything one normal message loads.
    expect((await client.command('MAIL FROM:<alice@acme.example>')).code).toBe(250);
    expect((await client.command('RCPT TO:<bob@partner.example>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    await client.write('From: alice@acme.example\r\nTo: bob@partner.example\r\nSubject: warm-up\r\n\r\nhello\r\n.\r\n');
    expect((await client.reply()).code).toBe(250);
    const before = peakRssKb(child.pid!);
    // No SIZE= on MAIL FROM: the relay only learns the size by reading the stream.
    expect((await client.command('MAIL FROM:<alice@acme.example>')).code).toBe(250);
    expect((await client.command('RCPT TO:<bob@partner.example>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    await client.write('From: alice@acme.example\r\nTo: bob@partner.example\r\nSubject: huge\r\n\r\n');
    const line = `${'x'.repeat(998)}\r\n`;
    const chunk = Buffer.from(line.repeat(64));
    const total = 30 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += chunk.length) await client.write(chunk);
    await client.write('.\r\n');
    const reply = await client.reply(60_000);
    expect(reply.code).toBe(552);
    const growthMb = (peakRssKb(child.pid!) - before) / 1024;
    console.log(
      `relay peak RSS growth for a 30 MB message at a 4 MB limit: ${growthMb.toFixed(1)} MB (baseline ${(before / 1024).toFixed(0)} MB)`,
    );
    // Nothing past the limit is kept; what the peak shows beyond the 4 MB is socket buffers V8 has
    // not yet collected (external memory is collected in steps of tens of MB): +20 to +52 MB seen,
    // depending on the machine's load; with a forced GC every 8 MB a 90 MB message peaked at +19 MB.
    // Held whole, the 30 MB message and its concatenated copy would add 60 MB on top of that same
    // uncollected garbage (80 MB and more).
    expect(growthMb).toBeLessThan(70);
    // And it keeps serving on the same connection.
    expect((await client.command('NOOP')).code).toBe(250);
    client.close();
    await stopChild(child);
  }, 120_000);

  it('killed with SIGKILL between its 250 and delivery, delivers the mail once after a restart', async () => {
    // The first relay runs without its worker (the worker wakes the moment mail is queued), so
    // the kill falls between the 250 and any delivery; the second delivers what the first accepted.
    const first = await startRelayProcess({ SEALPOST_WORKER: 'off' });
    await new Promise((r) => setTimeout(r, 500));
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: first.port,
      secure: false,
      ignoreTLS: true,
      auth: { user: credential.username, pass: credential.password },
    });
    const raw = Buffer.from(
      'From: alice@acme.example\r\nTo: bob@partner.example\r\nSubject: kill test\r\nMessage-ID: <kill-1@acme.example>\r\n\r\nhello\r\n',
    );
    const info = await transport.sendMail({ envelope: { from: 'alice@acme.example', to: ['bob@partner.example'] }, raw });
    expect(info.response).toMatch(/^250 /);
    transport.close();
    await stopChild(first.child, 'SIGKILL');
    expect(sink.mails.filter((m) => m.raw.includes('<kill-1@acme.example>'))).toHaveLength(0);
    const second = await startRelayProcess({});
    await sink.waitFor(1, 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(sink.mails.filter((m) => m.raw.includes('<kill-1@acme.example>'))).toHaveLength(1);
    await stopChild(second.child);
  }, 120_000);

  it('finishes DATA in flight on SIGTERM, answers it 250, then exits', async () => {
    const { port, child } = await startRelayProcess({ SEALPOST_WORKER: 'off' });
    const { client } = await RawSmtp.connect(port);
    await client.command('EHLO mail.acme.example');
    await client.authPlain(credential.username, credential.password);
    await client.command('MAIL FROM:<alice@acme.example>');
    await client.command('RCPT TO:<bob@partner.example>');
    expect((await client.command('DATA')).code).toBe(354);
    await client.write(
      'From: alice@acme.example\r\nTo: bob@partner.example\r\nSubject: in flight\r\nMessage-ID: <term-1@acme.example>\r\n\r\nfirst half\r\n',
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await client.write('second half\r\n.\r\n');
    expect((await client.reply()).code).toBe(250);
    // New work is refused while it stops.
    expect((await client.command('MAIL FROM:<alice@acme.example>')).code).toBe(421);
    client.close();
    expect(await exited).toBe(0);
    const rows = await ctx.db.selectFrom('outbox').select('id').where('kind', '=', 'passthrough').execute();
    expect(rows.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
