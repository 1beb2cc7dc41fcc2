import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AddressObject, type AttachmentStream, MailParser } from 'mailparser';
import { sanitiseMessageHtml } from './sanitise-html';

export type TAddress = { name: string; address: string };
export type TAttachmentView = { index: number; filename: string; contentType: string; size: number; contentId: string | null };
export type TMessageView = {
  subject: string;
  from: TAddress[];
  to: TAddress[];
  cc: TAddress[];
  date: string | null;
  messageIdHeader: string | null;
  text: string;
  html: string | null;
  hasRemoteImages: boolean;
  attachments: TAttachmentView[];
};

export type ToMessageViewOptions = {
  // The decrypted message, whole or as a stream of pieces.
  mime: Uint8Array | AsyncIterable<Uint8Array>;
  allowRemoteImages?: boolean;
  // URL (same origin) of attachment `index`, for cid: images that were not inlined.
  attachmentUrl: (index: number) => string;
};

// Bodies larger than this are shown as text only: the sanitiser's work grows with the HTML.
const MAX_HTML_CHARS = 4 * 1024 * 1024;
const SLICE_BYTES = 64 * 1024;

// Inline images (a Content-ID and a type the body frame shows) are shown as data: URLs, each up to
// MAX_INLINE_IMAGE_BYTES and all of a message's together up to MAX_INLINE_IMAGES_BYTES: the body's
// frame loads nothing but data: images (no origin of ours: a same-origin URL would not carry the
// reader's session there). Larger ones stay in the attachment list only.
const INLINE_IMAGE_TYPE = /^image\/(png|jpeg|gif|webp)$/i;
const MAX_INLINE_IMAGE_BYTES = 1024 * 1024;
const MAX_INLINE_IMAGES_BYTES = 4 * 1024 * 1024;

type TParsedAttachment = { filename?: string; contentType: string; size: number; cid?: string; inline?: Buffer[] };
type TParsed = {
  headers: Map<string, unknown>;
  text?: string;
  html?: string | false;
  attachments: TParsedAttachment[];
};

// mailparser's streaming parser, as simpleParser drives it but with each attachment counted and
// dropped as it passes: a 150 MB attachment costs the view its size, not its bytes. What is kept
// is the headers and the text and HTML bodies.
async function parseMessage(mime: ToMessageViewOptions['mime']): Promise<TParsed> {
  const source =
    mime instanceof Uint8Array
      ? (function* () {
          for (let at = 0; at < mime.length; at += SLICE_BYTES)
            yield Buffer.from(mime.buffer, mime.byteOffset + at, Math.min(SLICE_BYTES, mime.length - at));
        })()
      : mime;
  const parser = new MailParser({
    // html-to-text on hostile markup is the known stack/CPU bomb (htmllargecallstack.eml).
    skipHtmlToText: true,
    skipTextLinks: true,
    skipImageLinks: true,
    maxHtmlLengthToParse: MAX_HTML_CHARS,
    checksumAlgo: false,
  });
  const parsed: TParsed = { headers: new Map(), attachments: [] };
  parser.on('headers', (headers: Map<string, unknown>) => (parsed.headers = headers));
  parser.on('data', (data: { type: string }) => {
    if (data.type === 'text') {
      const text = data as { text?: string; html?: string | false };
      parsed.text = text.text;
      parsed.html = text.html;
      return;
    }
    if (data.type !== 'attachment') return;
    const attachment = data as unknown as AttachmentStream;
    const entry: TParsedAttachment = { filename: attachment.filename, contentType: attachment.contentType, size: 0, cid: attachment.cid };
    if (entry.cid && INLINE_IMAGE_TYPE.test(entry.contentType)) entry.inline = [];
    parsed.attachments.push(entry);
    const content = attachment.content as Readable;
    content.on('data', (chunk: Buffer) => {
      entry.size += chunk.length;
      if (!entry.inline) return;
      if (entry.size <= MAX_INLINE_IMAGE_BYTES) entry.inline.push(chunk);
      else entry.inline = undefined;
    });
    content.once('end', () => attachment.release?.());
  });
  await pipeline(Readable.from(source, { objectMode: false }), parser);
  return parsed;
}

// What the reader sees of a decrypted message: headers, a sanitised HTML body (or text), and
// the attachment list. The body is untrusted sender content from here to the sandboxed frame.
export async function toMessageView({ mime, allowRemoteImages = false, attachmentUrl }: ToMessageViewOptions): Promise<TMessageView> {
  const parsed = await parseMessage(mime);
  const header = <T>(name: string) => parsed.headers.get(name) as T | undefined;
  const attachments = parsed.attachments.map((a, index) => ({
    index,
    filename: safeFilename(a.filename, index, a.contentType),
    contentType: safeContentType(a.contentType),
    size: a.size,
    contentId: a.cid ?? null,
  }));
  const byCid = new Map(attachments.filter((a) => a.contentId).map((a) => [a.contentId!.toLowerCase(), a.index]));
  let inlineBudget = MAX_INLINE_IMAGES_BYTES;
  const dataUrls = new Map<number, string>();
  // An image referred to more than once is made into a data: URL once (and counted once).
  const inlineUrl = (index: number) => {
    const found = dataUrls.get(index);
    if (found) return found;
    const image = parsed.attachments[index];
    if (!image?.inline || image.size > inlineBudget) return null;
    inlineBudget -= image.size;
    const url = `data:${image.contentType.toLowerCase()};base64,${Buffer.concat(image.inline).toString('base64')}`;
    dataUrls.set(index, url);
    return url;
  };
  const rawHtml = typeof parsed.html === 'string' && parsed.html.length <= MAX_HTML_CHARS ? parsed.html : null;
  const sanitised = rawHtml
    ? sanitiseMessageHtml({
        html: rawHtml,
        allowRemoteImages,
        cidUrl: (cid) => {
          const index = byCid.get(decodeCid(cid).replace(/^<|>$/g, '').toLowerCase());
          return index === undefined ? null : (inlineUrl(index) ?? attachmentUrl(index));
        },
      })
    : null;
  const date = header<Date>('date');
  return {
    subject: header<string>('subject') ?? '',
    from: addresses(header<AddressObject>('from')),
    to: addresses(header<AddressObject | AddressObject[]>('to')),
    cc: addresses(header<AddressObject | AddressObject[]>('cc')),
    date: date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : null,
    messageIdHeader: header<string>('message-id') ?? null,
    text: parsed.text ?? '',
    html: sanitised?.html ?? null,
    hasRemoteImages: sanitised?.hasRemoteImages ?? false,
    attachments,
  };
}

// A cid: URL's id is URL-encoded (RFC 2392); a malformed escape is taken as written.
function decodeCid(cid: string): string {
  try {
    return decodeURIComponent(cid);
  } catch {
    return cid;
  }
}

function addresses(field: AddressObject | AddressObject[] | undefined): TAddress[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list
    .flatMap((o) => o.value)
    .flatMap((v) => (v.group ? v.group : [v]))
    .map((v) => ({ name: v.name ?? '', address: v.address ?? '' }));
}

// A filename safe on every OS and in a Content-Disposition header: no paths, no control or
// reserved characters, no leading dots, bounded length, never empty.
export function safeFilename(name: string | undefined, index: number, contentType: string): string {
  const base = (name ?? '')
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[\\/:*?"<>|]/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 180);
  if (base) return base;
  const ext = contentType
    .split('/')[1]
    ?.replace(/[^a-z0-9]/gi, '')
    .slice(0, 10);
  return `attachment-${index + 1}${ext ? `.${ext}` : ''}`;
}

// Served as-is only when it cannot be rendered as active content by the browser.
const ACTIVE_TYPES =
  /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript)$/i;
export function safeContentType(type: string | undefined): string {
  const t = (type ?? '').toLowerCase().split(';')[0]!.trim();
  return !/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(t) || ACTIVE_TYPES.test(t) ? 'application/octet-stream' : t;
}
