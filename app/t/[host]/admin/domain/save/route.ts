import { adminActor } from '@/lib/admin/roles';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';
import { setCustomDomain } from '@/lib/tenants/set-custom-domain';

export const runtime = 'nodejs';

// POST /admin/domain/save – set the portal's own domain, or clear it (an empty one); admin or
// owner, re-verified: every new link in mail names this host
export const POST = adminRoute<{ host: string }, { role: 'admin'; isSensitive: true }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readSmallForm({ request });
    const domain = form.get('clear') === '1' ? null : (form.get('domain') ?? '');
    const saved = await setCustomDomain({ db: ctx.db, config: ctx.config, tenant, domain, actor: adminActor(session.admin) });
    return seeOther(`/admin/domain?done=${saved.customDomain ? 'set' : 'cleared'}`);
  },
  { access: { role: 'admin', isSensitive: true }, backTo: () => '/admin/domain', what: 'custom domain save' },
);
