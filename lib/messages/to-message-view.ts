import { simpleParser, type AddressObject } from 'mailparser';
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
  mime: Uint8Array;
  allowRemoteImages?: boolean;
  // URL (same origin) of attachment `index`, for cid: images that were not inlined.
  attachmentUrl: (index: number) => string;
};

// Bodies larger than this are shown as text only: the sanitiser's work grows with the HTML.
const MAX_HTML_CHARS = 4 * 1024 * 1024;

// What the reader sees of a decrypted message: headers, a sanitised HTML body (or text), and
// the attachment list. The body is untrusted sender content from here to the sandboxed frame.
export async function toMessageView({ mime, allowRemoteImages = false, attachmentUrl }: ToMessageViewOptions): Promise<TMessageView> {
  const parsed = await simpleParser(Buffer.from(mime.buffer, mime.byteOffset, mime.byteLength), {
    // html-to-text on hostile markup is the known stack/CPU bomb (htmllargecallstack.eml).
    skipHtmlToText: true,
    skipTextLinks: true,
    skipImageLinks: true,
    maxHtmlLengthToParse: MAX_HTML_CHARS,
  });
  const attachments = parsed.attachments.map((a, index) => ({
    index,
    filename: safeFilename(a.filename, index, a.contentType),
    contentType: safeContentType(a.contentType),
    size: a.size ?? a.content.length,
    contentId: a.cid ?? null,
  }));
  const byCid = new Map(attachments.filter((a) => a.contentId).map((a) => [a.contentId!.toLowerCase(), a.index]));
  const rawHtml = typeof parsed.html === 'string' && parsed.html.length <= MAX_HTML_CHARS ? parsed.html : null;
  const sanitised = rawHtml
    ? sanitiseMessageHtml({
        html: rawHtml,
        allowRemoteImages,
        cidUrl: (cid) => {
          const index = byCid.get(decodeURIComponent(cid).replace(/^<|>$/g, '').toLowerCase());
          return index === undefined ? null : attachmentUrl(index);
        },
      })
    : null;
  return {
    subject: parsed.subject ?? '',
    from: addresses(parsed.from),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.toISOString() : null,
    messageIdHeader: parsed.messageId ?? null,
    text: parsed.text ?? '',
    html: sanitised?.html ?? null,
    hasRemoteImages: sanitised?.hasRemoteImages ?? false,
    attachments,
  };
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
