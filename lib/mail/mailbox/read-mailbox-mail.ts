import fs from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import { AppError } from '../../errors';
import { safeFilename } from '../../messages/to-message-view';
import { mailboxDir } from '../transport';

// `<epochMs>-<outbox id>`, the base name the mailbox transport writes. Nothing else ever reaches
// the file system: no separators, no dots, so no path can leave the mailbox directory.
export const MAILBOX_ID = /^\d{13}-[0-9a-f-]{36}$/;

// Larger HTML parts are shown as text only (mailparser's HTML handling grows with the input).
const MAX_HTML_CHARS = 4 * 1024 * 1024;

export type TMailboxAttachment = { index: number; filename: string; contentType: string; size: number; content: Buffer };
export type TMailboxMail = {
  id: string;
  receivedAt: string;
  subject: string;
  from: string;
  to: string;
  date: string | null;
  text: string;
  // The sender's markup, untouched: only ever shown inside an empty-sandbox frame.
  html: string | null;
  attachments: TMailboxAttachment[];
};

export type ReadMailboxMailOptions = { dataDir: string; id: string };

// One mail of the local mailbox, parsed; an id that is malformed or unknown is NOT_FOUND.
export async function readMailboxMail({ dataDir, id }: ReadMailboxMailOptions): Promise<TMailboxMail> {
  if (!MAILBOX_ID.test(id)) throw new AppError('NOT_FOUND', 'No such mail');
  let raw: Buffer;
  try {
    raw = await fs.readFile(path.join(mailboxDir(dataDir), `${id}.eml`));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('NOT_FOUND', 'No such mail');
    throw error;
  }
  const parsed = await simpleParser(raw, {
    // html-to-text on hostile markup is a known stack/CPU bomb, and the text part is shown as is.
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    maxHtmlLengthToParse: MAX_HTML_CHARS,
  });
  return {
    id,
    receivedAt: new Date(Number(id.slice(0, 13))).toISOString(),
    subject: parsed.subject ?? '',
    from: addressText(parsed.from),
    to: addressText(parsed.to),
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.toISOString() : null,
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' && parsed.html.length <= MAX_HTML_CHARS ? parsed.html : null,
    attachments: parsed.attachments.map((a, index) => ({
      index,
      filename: safeFilename(a.filename, index, a.contentType),
      contentType: (a.contentType ?? '').toLowerCase(),
      size: a.size ?? a.content.length,
      content: a.content,
    })),
  };
}

// `Name <address>` per mailbox, groups flattened: mailparser's own `text` quotes every name.
export const addressText = (field: AddressObject | AddressObject[] | undefined) =>
  (field === undefined ? [] : Array.isArray(field) ? field : [field])
    .flatMap((o) => o.value)
    .flatMap((v) => (v.group ? v.group : [v]))
    .map((v) => (v.name && v.address ? `${v.name} <${v.address}>` : (v.address ?? v.name ?? '')))
    .join(', ');
