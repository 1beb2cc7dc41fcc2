import { renderWrapperHtml } from '../../mail/templates/wrapper-mail';
import { renderStaticHtml } from '../../mail/templates/brand-header';
import type { TDb } from '../../store/db';
import type { TTenant } from '../../tenants/tenants';
import { loadStoredTemplate } from './load-stored-template';
import { previewBranding } from './preview-branding';

export type RenderMailPreviewOptions = { db: TDb; tenant: TTenant; query: URLSearchParams; portalOrigin: string };

// The real wrapper mail (the renderer every sent message goes through) for the values typed, with
// a sample sender and link; or, for values that cannot be saved, what is wrong with them.
export async function renderMailPreview({ db, tenant, query, portalOrigin }: RenderMailPreviewOptions): Promise<string> {
  const stored = await loadStoredTemplate({ db, tenantId: tenant.id, template: query.get('template') ?? '' });
  const draft = previewBranding({ query, stored });
  if (draft.kind === 'invalid')
    return renderStaticHtml(
      <html lang="en">
        <body>
          <p>These values cannot be saved:</p>
          <ul>
            {draft.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </body>
      </html>,
    );
  const { branding } = draft;
  return renderWrapperHtml({
    branding,
    tenantName: tenant.name,
    senderLabel: `Alice Example <alice@${tenant.mail_domain}>`,
    readUrl: `${portalOrigin}/r/preview`,
    expiresAt: branding.policy.expiryDays ? Date.now() + branding.policy.expiryDays * 86_400_000 : null,
    hasAttachment: branding.policy.delivery.attachment,
  });
}
