import 'server-only';
import { Readable } from 'node:stream';
import { type AttachmentStream, MailParser } from 'mailparser';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import { safeContentType, safeFilename } from '../messages/to-message-view';
import { openTenantEnvelopeStream } from './accept-posted-envelope';
import { authoriseReader, findReaderEnvelope, type OpenForReaderOptions } from './open-for-reader';

export type DownloadAttachmentOptions = OpenForReaderOptions & { index: string };

// One attachment of a reader's message, decrypted and decoded as the client reads it. The
// envelope streams in twice (lib/envelope/envelope-stream.ts): a first pass checks its one tag,
// keeping a keyed hash of each ciphertext piece; the second decrypts each piece only if it is
// the one that was checked, into mailparser's streaming parser, which streams the attachment's
// content with back-pressure and drains the parts around it. Nothing unauthenticated reaches
// the client, and a 150 MB message is never held: not sealed, not decrypted, not decoded.
export async function downloadAttachment({ index, ...options }: DownloadAttachmentOptions) {
  const i = /^\d{1,4}$/.test(index) ? Number(index) : -1;
  const { session, message } = await authoriseReader(options);
  const { source } = await findReaderEnvelope({ ctx: options.ctx, message });
  const opened = await openTenantEnvelopeStream({ ctx: options.ctx, tenant: options.tenant, source, mode: 'release' });
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

// Numbered as the message view numbers them: in the order the parser meets them. Resolves at the
// wanted one's start, or null once the message has none.
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
