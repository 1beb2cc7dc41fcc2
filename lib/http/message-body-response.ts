import 'server-only';
import { RESTRICTION_CSS, renderRestrictionOverlay, type TRestrictionOverlay } from './restriction-overlay';

export type MessageBodyResponseOptions = {
  html: string;
  allowRemoteImages: boolean;
  // A Do Not Forward message: its reader's watermark and print notice, made for this request
  // (never part of the reader view, which is one per message and shared by its readers).
  restriction?: TRestrictionOverlay;
};

// The frame's policy: nothing runs, nothing loads but inline images (remote ones once the reader
// allowed them), links open outside; sandboxed by the header itself, so even opened on its own
// (not in the page's sandboxed frame) it runs nothing and has no origin of ours. Framed by our
// own pages only. scripts/server.mjs's proxy.ts sets this same policy for the path (its headers
// win); it is here too so the response is safe whatever serves it.
export const messageBodyCsp = (allowRemoteImages: boolean) =>
  [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src data:${allowRemoteImages ? ' https: http:' : ''}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');

// GET /m/<id>/body: the sanitised body of a message as a document of its own, so the message page
// does not carry it twice (in the frame's srcdoc and again in the page's RSC payload).
export async function messageBodyResponse({ html, allowRemoteImages, restriction }: MessageBodyResponseOptions): Promise<Response> {
  // The body goes in a <div> of its own so the print rule can hide it whatever elements it holds.
  const overlay = restriction ? await renderRestrictionOverlay(restriction) : '';
  const css = `body{font-family:system-ui,sans-serif;margin:0;padding:8px;overflow-wrap:anywhere}img{max-width:100%;height:auto}${restriction ? RESTRICTION_CSS : ''}`;
  const doc = `<!DOCTYPE html><html><head><meta charset="utf-8"><base target="_blank"><style>${css}</style></head><body>${restriction ? `<div>${html}</div>${overlay}` : html}</body></html>`;
  return new Response(doc, {
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'private, no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': messageBodyCsp(allowRemoteImages),
    },
  });
}
