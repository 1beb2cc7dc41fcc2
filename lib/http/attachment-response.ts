import 'server-only';
import { Readable } from 'node:stream';
// RFC 5987 attr-chars only: encodeURIComponent leaves ' ( ) * ! as they are.
const encodeRfc5987 = (s: string) => encodeURIComponent(s).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// content: the bytes, or a stream of them (sent as it is read).
export type AttachmentResponseOptions = { filename: string; contentType: string; content: Uint8Array | Readable };

// An attachment always downloads, never renders on our origin: Content-Disposition attachment,
// nosniff, a sandboxing CSP, and an ASCII fallback name beside the UTF-8 one (RFC 6266).
// `filename` and `contentType` must already be sanitised (safeFilename, safeContentType).
export function attachmentResponse({ filename, contentType, content }: AttachmentResponseOptions): Response {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const body = content instanceof Readable ? (Readable.toWeb(content) as ReadableStream<Uint8Array>) : new Uint8Array(content);
  return new Response(body, {
    headers: {
      'Content-Type': contentType,
      'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(filename)}`,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, no-store',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    },
  });
}
