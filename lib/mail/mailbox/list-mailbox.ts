import fs from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { mailboxDir } from '../transport';
import { addressText, MAILBOX_ID } from './read-mailbox-mail';

// A page of 200 is plenty for trying Sealpost out, and bounds the work per request.
export const MAILBOX_LIST_LIMIT = 200;
// The outbox's header blocks are a few KB; bodies (and message.html) are never read for the list.
const HEADER_BYTES = 64 * 1024;

export type TMailboxEntry = { id: string; date: string; from: string; to: string; subject: string };

export type ListMailboxOptions = { dataDir: string };

// The newest mails of the local mailbox first, from their header blocks only. `date` is when the
// mail landed in the mailbox (the file name's time), which is also the order.
export async function listMailbox({ dataDir }: ListMailboxOptions): Promise<TMailboxEntry[]> {
  const dir = mailboxDir(dataDir);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  // Same-width millisecond prefixes: sorting the names sorts by time.
  const ids = names
    .filter((name) => name.endsWith('.eml'))
    .map((name) => name.slice(0, -'.eml'.length))
    .filter((id) => MAILBOX_ID.test(id))
    .sort()
    .reverse()
    .slice(0, MAILBOX_LIST_LIMIT);
  const entries = await Promise.all(ids.map((id) => readEntry(dir, id)));
  return entries.filter((e): e is TMailboxEntry => e !== null);
}

async function readEntry(dir: string, id: string): Promise<TMailboxEntry | null> {
  let head: Buffer;
  try {
    const file = await fs.open(path.join(dir, `${id}.eml`), 'r');
    try {
      const buffer = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await file.read(buffer, 0, HEADER_BYTES, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (error) {
    // Removed since the directory was read: not an error, just no longer there.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const ends = [head.indexOf('\r\n\r\n'), head.indexOf('\n\n')].filter((i) => i >= 0);
  const headerBlock = ends.length ? head.subarray(0, Math.min(...ends)) : head;
  const parsed = await simpleParser(Buffer.concat([headerBlock, Buffer.from('\r\n\r\n')]), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  });
  return {
    id,
    date: new Date(Number(id.slice(0, 13))).toISOString(),
    from: addressText(parsed.from),
    to: addressText(parsed.to),
    subject: parsed.subject ?? '',
  };
}
