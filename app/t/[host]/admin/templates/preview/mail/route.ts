import { renderMailPreview } from '@/lib/admin/templates/render-mail-preview';
import { adminRoute } from '@/lib/http/admin-route';
import { htmlResponse } from '@/lib/http/html-response';
import { portalOrigin } from '@/lib/tenants/tenants';

export const runtime = 'nodejs';

// GET /admin/templates/preview/mail?<form values> – the wrapper mail as it would be sent (framed
// by the template page, sandboxed)
export const GET = adminRoute<{ host: string }, { role: 'auditor' }>(
  async ({ request, ctx, tenant }) => {
    const query = new URL(request.url).searchParams;
    return htmlResponse(await renderMailPreview({ db: ctx.db, tenant, query, portalOrigin: portalOrigin(ctx.config, tenant) }));
  },
  { access: { role: 'auditor' }, what: 'template mail preview' },
);
