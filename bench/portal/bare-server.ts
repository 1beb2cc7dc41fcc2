import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { recordAudit } from '../../lib/audit/record-audit';
import { sessionCookieName } from '../../lib/auth/recipient-session';
import { parseConfig } from '../../lib/env';
import { isAppError } from '../../lib/errors';
import { toMessageView } from '../../lib/messages/to-message-view';
import { openForReader } from '../../lib/portal/open-for-reader';
import { readReaderView } from '../../lib/portal/read-reader-view';
import { createContext, type TContext } from '../../lib/server/context';
import { getTenantByHost } from '../../lib/tenants/get-tenant-by-host';
import type { TTenant } from '../../lib/tenants/tenants';
import { getBranding } from '../../lib/templates/get-branding';

const gzip = promisify(zlib.gzip);

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const cookieValue = (header: string | undefined, name: string) =>
  header
    ?.split(/;\s*/)
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);

// The portal's message page without Next.js and React: the same lib calls in the same order
// (tenant by host, branding, session + message + envelope open, MIME parse + sanitise, audit
// row), then the same sandboxed frame in a page built from a template string.
// `render`: every view opens the envelope, parses the MIME and sanitises the body (the portal's
// work before the reader's view was kept). `cached`: the same session check, then the view
// rendered once and kept sealed (lib/portal/read-reader-view.ts), as the portal does now.
export type TBareMode = 'render' | 'cached';

async function readView(ctx: TContext, tenant: TTenant, messageId: string, sessionValue: string | undefined, mode: TBareMode) {
  if (mode === 'cached') return readReaderView({ ctx, tenant, messageId, sessionValue, allowRemoteImages: false });
  const opened = await openForReader({ ctx, tenant, messageId, sessionValue });
  const view = await toMessageView({
    mime: opened.mime,
    allowRemoteImages: false,
    attachmentUrl: (i) => `/m/${messageId}/attachments/${i}`,
  });
  return { session: opened.session, view };
}

async function renderMessage(ctx: TContext, req: http.IncomingMessage, messageId: string, mode: TBareMode) {
  const tenant = await getTenantByHost({ db: ctx.db, config: ctx.config, host: req.headers.host ?? '' });
  if (!tenant) return { status: 404, html: 'Not found' };
  const branding = await getBranding(ctx.db, tenant.id);
  const sessionValue = cookieValue(req.headers.cookie, sessionCookieName(ctx.config));
  const { session, view } = await readView(ctx, tenant, messageId, sessionValue, mode);
  const opened = { session };
  await recordAudit(ctx.db, { tenantId: tenant.id, messageId, type: 'viewed', actor: opened.session.address });
  const frameCsp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
  const srcDoc = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${frameCsp}"><base target="_blank"></head><body>${view.html ?? ''}</body></html>`;
  const people = (list: { name: string; address: string }[]) =>
    escapeHtml(list.map((p) => (p.name ? `${p.name} <${p.address}>` : p.address)).join(', '));
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sealpost</title></head>
<body style="--brand:${escapeHtml(branding.look.primaryColour)}"><header>${escapeHtml(branding.look.displayName ?? tenant.name)}</header><main><article>
<h1>${escapeHtml(view.subject)}</h1><dl><dt>From</dt><dd>${people(view.from)}</dd><dt>To</dt><dd>${people(view.to)}</dd><dt>Date</dt><dd>${escapeHtml(view.date ?? '')}</dd></dl>
<iframe title="Message" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="${escapeHtml(srcDoc)}"></iframe>
<ul>${view.attachments.map((a) => `<li><a href="/m/${messageId}/attachments/${a.index}" download="${escapeHtml(a.filename)}">${escapeHtml(a.filename)}</a></li>`).join('')}</ul>
</article><form method="post" action="/signout"><button type="submit">Sign out</button></form></main></body></html>`;
  return { status: 200, html };
}

export type TBareServer = { port: number; close(): Promise<void> };

// GET /m/<id> only, on 127.0.0.1. Compresses like `next start` does (gzip, zlib's default level)
// when the client asks for it, so both servers do the same work per byte on the wire.
export async function startBareServer({ port = 0, mode = 'render' }: { port?: number; mode?: TBareMode } = {}): Promise<TBareServer> {
  const ctx = await createContext({ config: parseConfig(process.env) });
  const server = http.createServer(async (req, res) => {
    try {
      const id = /^\/m\/([0-9a-f-]{36})$/.exec(req.url ?? '')?.[1];
      const { status, html } = id ? await renderMessage(ctx, req, id, mode) : { status: 404, html: 'Not found' };
      const body = Buffer.from(html);
      const isGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'private, no-store',
        ...(isGzip ? { 'content-encoding': 'gzip', vary: 'Accept-Encoding' } : {}),
      });
      res.end(isGzip ? await gzip(body) : body);
    } catch (error) {
      const status = isAppError(error) ? error.status : 500;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(isAppError(error) ? error.code : 'Internal error');
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise((r) => server.close(r));
      await ctx.db.destroy();
    },
  };
}
