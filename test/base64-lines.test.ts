import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { Encoder } from 'nodemailer/lib/base64';
import { describe, expect, it } from 'vitest';
import { base64Lines } from '@/lib/mail/base64-lines';

// message.html's base64 as it streams (lib/mail/base64-lines.ts): the same text nodemailer's own
// encoder writes, whatever the pieces, every piece of it whole lines.
async function encoded(pieces: (Buffer | string)[]) {
  const out: Buffer[] = [];
  for await (const chunk of base64Lines(pieces)) out.push(chunk);
  return out;
}

async function nodemailerBase64(bytes: Buffer): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from([bytes]).pipe(new Encoder({ lineLength: 76 }))) out.push(chunk as Buffer);
  return Buffer.concat(out).toString('latin1');
}

// Cut bytes at the given lengths (the rest in one last piece).
function cut(bytes: Buffer, lengths: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const n of lengths) {
    pieces.push(bytes.subarray(at, at + n));
    at += n;
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}

describe('base64 lines for a streamed MIME body', () => {
  it.each([
    ['nothing', 0, []],
    ['one short line', 10, []],
    ['exactly one line', 57, []],
    ['a line and a byte', 58, []],
    ['pieces that end mid-line', 1000, [1, 56, 2, 100, 57, 3]],
    ['empty pieces among them', 300, [0, 5, 0, 0, 52, 0]],
    ['pieces shorter than what is carried', 200, [20, 10, 10, 10, 3]],
    ['a 48 KiB slice of a large envelope', 3 * (1 << 14) * 3 + 11, [3 * (1 << 14), 3 * (1 << 14)]],
  ])('%s: what nodemailer writes, each piece whole lines of 76 (CRLF-ended but the last)', async (_kind, size, lengths) => {
    const bytes = crypto.randomBytes(size);
    const out = await encoded(cut(bytes, lengths));
    const text = Buffer.concat(out).toString('latin1');
    expect(text).toBe(await nodemailerBase64(bytes));
    expect(Buffer.from(text.replace(/\r\n/g, ''), 'base64').equals(bytes)).toBe(true);
    for (const chunk of out.slice(0, -1)) {
      expect(chunk.subarray(-2).toString('latin1')).toBe('\r\n');
      for (const line of chunk.toString('latin1').split('\r\n').slice(0, -1)) expect(line.length).toBeLessThanOrEqual(76);
    }
    for (const line of text.split('\r\n').slice(0, -1)) expect(line.length).toBe(76);
    expect(text.endsWith('\r\n')).toBe(false);
  });

  it('reads latin1 text pieces as their bytes, through one reused buffer, and hands out none of it', async () => {
    const text = crypto.randomBytes(5000).toString('base64url');
    const head = Buffer.from('<html><body>', 'latin1');
    const out = await encoded([head, text.slice(0, 3001), text.slice(3001, 3002), text.slice(3002), Buffer.from('</body></html>')]);
    const whole = Buffer.concat([head, Buffer.from(text, 'latin1'), Buffer.from('</body></html>')]);
    expect(Buffer.concat(out).toString('latin1')).toBe(await nodemailerBase64(whole));
    // A later, shorter piece written over the reused buffer changes nothing already handed out.
    const first = Buffer.concat(out).toString('latin1');
    const again = await encoded([head, text, 'x'.repeat(10), Buffer.from('</body></html>')]);
    expect(
      Buffer.concat(again)
        .toString('latin1')
        .startsWith(first.slice(0, 76 * 10)),
    ).toBe(true);
  });
});
