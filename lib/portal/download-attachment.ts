import 'server-only';
import { Readable } from 'node:stream';
import { type AttachmentStream, MailParser } from 'mailparser';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import { safeContentType, safeFilename } from '../messages/to-message-view';
import { openForReader, type OpenForReaderOptions } from './open-for-reader';

export type DownloadAttachmentOptions = OpenForReaderOptions & { index: string };

// The decrypted message goes into the parser a slice at a time.
const SLICE_BYTES = 64 * 1024;

// One attachment of a reader's message, decoded as the client reads it: the parser streams the
// attachment's content with back-pressure and drains the parts around it, so a 150 MB attachment
// is never held decoded (simpleParser would hold every attachment whole). The decrypted message
// itself is held while it is read: the envelope is one AES-GCM message, and no plaintext may be
// handed out before its tag is checked at the end.
export async function downloadAttachment({ index, ...options }: DownloadAttachmentOptions) {
  const i = /^\d{1,4}$/.test(index) ? Number(index) : -1;
  const opened = await openForReader(options);
  const found = i < 0 ? null : await findAttachment({ mime: opened.mime, index: i });
  if (!found) throw new AppError('NOT_FOUND', 'No such attachment');
  await recordAudit(options.ctx.db, {
    tenantId: options.tenant.id,
    messageId: opened.message.id,
    type: 'downloaded',
    actor: opened.session.address,
    data: { index: i },
  });
  return {
    filename: safeFilename(found.attachment.filename, i, found.attachment.contentType),
    contentType: safeContentType(found.attachment.contentType),
    content: found.content,
  };
}

type FindAttachmentOptions = { mime: Uint8Array; index: number };

// Numbered as simpleParser numbers them (the message view's attachment list): in the order the
// parser meets them. Resolves at the wanted one's start, or null once the message has none.
function findAttachment({ mime, index }: FindAttachmentOptions): Promise<{ attachment: AttachmentStream; content: Readable } | null> {
  const source = Readable.from(
    (function* () {
      for (let at = 0; at < mime.length; at += SLICE_BYTES)
        yield Buffer.from(mime.buffer, mime.byteOffset + at, Math.min(SLICE_BYTES, mime.length - at));
    })(),
    { objectMode: false },
  );
  const parser = new MailParser({ skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true, checksumAlgo: false });
  let seen = 0;
  return new Promise((resolve, reject) => {
    let content: Readable | null = null;
    const fail = (error: Error) => {
      if (content) content.destroy(error);
      else reject(error);
    };
    parser.on('data', (data: { type: string } & Partial<AttachmentStream>) => {
      if (data.type !== 'attachment') return;
      const attachment = data as AttachmentStream;
      if (seen++ !== index || content) return attachment.release?.();
      content = attachment.content as Readable;
      // Released once read: until then the parser waits on the reader (back-pressure).
      content.once('end', () => attachment.release?.());
      // A client that goes away stops the parsing.
      content.once('close', () => {
        if (!content?.readableEnded) source.destroy();
      });
      resolve({ attachment, content });
    });
    parser.on('end', () => resolve(null));
    parser.on('error', fail);
    source.on('error', fail);
    source.pipe(parser);
  });
}
