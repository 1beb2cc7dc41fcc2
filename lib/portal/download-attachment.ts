import 'server-only';
import { Readable } from 'node:stream';
import { type AttachmentStream, MailParser } from 'mailparser';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import { safeContentType, safeFilename } from '../messages/to-message-view';
import { openTenantEnvelopeStream } from './accept-posted-envelope';
import { authoriseReader, findReaderEnvelope, type OpenForReaderOptions } from './open-for-reader';

export type DownloadAttachmentOptions = OpenForReaderOptions & { index: string };

// One attachment of a reader's message, decrypted and decoded as the client reads it: the
// envelope is opened a record at a time (each record's tag checked before its bytes go on; a
// version 2 envelope stored on the server is read a row at a time) into mailparser's streaming
// parser, which streams the attachment's content with back-pressure and drains the parts around
// it. A 150 MB message is never held, neither sealed nor decrypted nor decoded. A record that
// fails to open ends the download with an error (what went before it was authentic).
export async function downloadAttachment({ index, ...options }: DownloadAttachmentOptions) {
  const i = /^\d{1,4}$/.test(index) ? Number(index) : -1;
  const { session, message } = await authoriseReader(options);
  const { envelope } = await findReaderEnvelope({ ctx: options.ctx, message });
  const opened = await openTenantEnvelopeStream({ ctx: options.ctx, tenant: options.tenant, envelope });
  const found = i < 0 ? null : await findAttachment({ plaintext: opened.plaintext, index: i });
  if (!found) throw new AppError('NOT_FOUND', 'No such attachment');
  await recordAudit(options.ctx.db, {
    tenantId: options.tenant.id,
    messageId: opened.message.id,
    type: 'downloaded',
    actor: session.address,
    data: { index: i },
  });
  return {
    filename: safeFilename(found.attachment.filename, i, found.attachment.contentType),
    contentType: safeContentType(found.attachment.contentType),
    content: found.content,
  };
}

type FindAttachmentOptions = { plaintext: AsyncIterable<Buffer>; index: number };

// Numbered as simpleParser numbers them (the message view's attachment list): in the order the
// parser meets them. Resolves at the wanted one's start, or null once the message has none.
function findAttachment({ plaintext, index }: FindAttachmentOptions): Promise<{ attachment: AttachmentStream; content: Readable } | null> {
  const source = Readable.from(plaintext, { objectMode: false });
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
