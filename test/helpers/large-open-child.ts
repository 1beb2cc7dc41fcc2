// A child process for test/large-mail.test.ts, one phase of a large message's journey per run:
// `seal` (the message is written to disk first, so the fixture costs this process nothing),
// `open` (the message page's view) or `download` (its attachment); prints the phase's peak RSS
// (VmHWM) above the process's settled baseline as JSON.
// node --conditions=react-server --import tsx test/helpers/large-open-child.ts <phase> <dataDir> <MiB>
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createRecipientSession } from '../../lib/auth/recipient-session';
import { parseConfig } from '../../lib/env';
import { sendMessage } from '../../lib/messages/send-message';
import { downloadAttachment } from '../../lib/portal/download-attachment';
import { readReaderView } from '../../lib/portal/read-reader-view';
import { createContext, type TContext } from '../../lib/server/context';
import { listRecipients } from '../../lib/store/messages';
import { createTenant, getTenantById, type TTenant } from '../../lib/tenants/tenants';

const MiB = 1024 * 1024;
const status = () => fs.readFileSync('/proc/self/status', 'utf8');
const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status())![1]);
// Linux lets a process reset its high-water mark to its current RSS (clear_refs "5").
const resetPeak = () => fs.writeFileSync('/proc/self/clear_refs', '5');

// A multipart message of about `bytes`: a line of text and one binary attachment (base64),
// streamed to a file; returns the attachment's SHA-256.
function writeMessage(file: string, bytes: number): string {
  const fd = fs.openSync(file, 'w');
  const hash = crypto.createHash('sha256');
  fs.writeSync(
    fd,
    [
      'From: Alice Example <alice@acme.example>',
      'To: bob@partner.example',
      'Subject: The archive',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The archive is attached.',
      '--b1',
      'Content-Type: application/octet-stream; name="archive.bin"',
      'Content-Disposition: attachment; filename="archive.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      '',
    ].join('\r\n'),
  );
  // 57 bytes make one 76-character line; 8,192 lines per write.
  const lineBytes = 57 * 8192;
  const target = Math.floor((bytes * 3) / 4 / 1.027);
  for (let written = 0; written < target; written += lineBytes) {
    const chunk = crypto.randomBytes(Math.min(lineBytes, target - written));
    hash.update(chunk);
    fs.writeSync(fd, `${chunk.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '')}\r\n`);
  }
  fs.writeSync(fd, '--b1--\r\n');
  fs.closeSync(fd);
  return hash.digest('hex');
}

type TJourney = { ctx: TContext; tenant: TTenant };

async function seal({ ctx, tenant }: TJourney, file: string) {
  const sent = await sendMessage({ ctx, tenant, raw: fs.readFileSync(file), deliver: false });
  const [recipient] = await listRecipients(ctx.db, sent.messageId);
  const cookie = await createRecipientSession({
    ctx,
    tenant,
    session: { messageId: sent.messageId, recipientId: recipient!.id, address: recipient!.address, isKept: false },
  });
  return { messageId: sent.messageId, sessionValue: cookie.value };
}

// The message page's view of it (decrypted, parsed, sanitised, kept sealed).
async function open({ ctx, tenant }: TJourney, reader: { messageId: string; sessionValue: string }) {
  const { view } = await readReaderView({ ctx, tenant, ...reader, allowRemoteImages: false });
  return { attachments: view.attachments.length, size: view.attachments[0]?.size };
}

async function download({ ctx, tenant }: TJourney, reader: { messageId: string; sessionValue: string }) {
  const found = await downloadAttachment({ ctx, tenant, ...reader, index: '0' });
  const hash = crypto.createHash('sha256');
  let size = 0;
  await pipeline(
    found.content,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done();
      },
    }),
  );
  return { filename: found.filename, size, sha256: hash.digest('hex') };
}

// One phase of the journey in this process, after the same phase once with a 1 MiB message (so
// modules, keys and JIT are in the baseline). Each phase runs in a process of its own: a phase's
// garbage would otherwise stand in the next one's figures (RSS does not shrink after a peak).
const [phase, dataDir, mibArg] = process.argv.slice(2) as ['seal' | 'open' | 'download', string, string];
const mib = Number(mibArg);
const config = parseConfig({
  SEALPOST_DATA_DIR: dataDir,
  SEALPOST_DEMO_TENANT: 'off',
  LOG_LEVEL: 'silent',
  SEALPOST_MAX_MESSAGE_BYTES: String((mib + 8) * MiB),
});
const ctx = await createContext({ config });
const statePath = path.join(dataDir, 'large.json');
if (phase === 'seal') {
  const tenant = await createTenant({ db: ctx.db, master: ctx.master, slug: 'large', name: 'Acme Bank', mailDomain: 'acme.example' });
  const small = path.join(dataDir, 'small.eml');
  writeMessage(small, MiB);
  const warm = await seal({ ctx, tenant }, small);
  const large = path.join(dataDir, 'large.eml');
  const sha256 = writeMessage(large, mib * MiB);
  const bytes = fs.statSync(large).size;
  const baselineKb = kb('VmRSS');
  resetPeak();
  const reader = await seal({ ctx, tenant }, large);
  const peakKb = kb('VmHWM');
  fs.rmSync(large);
  fs.writeFileSync(statePath, JSON.stringify({ tenantId: tenant.id, warm, reader, sha256, bytes }));
  console.log(JSON.stringify({ phase, bytes, sha256, baselineKb, peakKb }));
} else {
  const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
  const tenant = (await getTenantById(ctx.db, state.tenantId))!;
  const run = phase === 'open' ? open : download;
  await run({ ctx, tenant }, state.warm);
  const baselineKb = kb('VmRSS');
  resetPeak();
  const result = await run({ ctx, tenant }, state.reader);
  const peakKb = kb('VmHWM');
  console.log(JSON.stringify({ phase, baselineKb, peakKb, result }));
}
await ctx.db.destroy();
