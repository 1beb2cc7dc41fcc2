import 'server-only';
import { loadForPage } from '../http/load-for-page';
import { brandingForMessage } from '../messages/message-restrictions';
import { findPageTenant } from '../tenants/load-tenant-page';
import { readReaderView } from './read-reader-view';
import { sessionCookieValue } from './request-session';

export type LoadMessagePageOptions = { host: string; id: string; allowRemoteImages?: boolean };

// Every page of a message a reader has open (/m/<id>, its reply and forward pages): the tenant,
// the reader's view of the message for this session (or the 401/403/gone page), and the
// branding of the template the message was sent with — its look and its policy (with the
// restrictions it was sent under), never the tenant's default.
export async function loadMessagePage({ host, id, allowRemoteImages = false }: LoadMessagePageOptions) {
  const { ctx, tenant } = await findPageTenant({ host });
  const opened = await loadForPage(
    async () => readReaderView({ ctx, tenant, messageId: id, sessionValue: await sessionCookieValue(ctx), allowRemoteImages }),
    { goneTo: `/m/${id}/gone` },
  );
  const branding = await brandingForMessage({ db: ctx.db, tenantId: tenant.id, message: opened.message });
  return { ctx, tenant, opened, view: opened.view, branding };
}
