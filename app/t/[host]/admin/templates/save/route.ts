import { adminActor } from '@/lib/admin/roles';
import { brandingFromForm } from '@/lib/admin/templates/branding-form';
import { loadStoredTemplate } from '@/lib/admin/templates/load-stored-template';
import { readLogoUpload } from '@/lib/admin/templates/read-logo-upload';
import { saveTemplate } from '@/lib/admin/templates/save-template';
import { adminRoute } from '@/lib/http/admin-route';
import { readMultipartForm } from '@/lib/http/read-multipart-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/templates/save – create or replace a template (admin or owner); a logo upload is
// checked by its bytes
export const POST = adminRoute<{ host: string }, { role: 'admin' }>(
  async ({ request, ctx, tenant, session }) => {
    const form = await readMultipartForm({ request, maxBytes: 256 * 1024 });
    const template = String(form.get('template') ?? '');
    const file = form.get('logoFile');
    const typed = String(form.get('logoUrl') ?? '').trim();
    const stored = await loadStoredTemplate({ db: ctx.db, tenantId: tenant.id, template });
    const logo =
      file instanceof File && file.size > 0
        ? readLogoUpload({ bytes: Buffer.from(await file.arrayBuffer()) })
        : form.get('removeLogo') === 'on'
          ? undefined
          : typed || stored?.look.logo;
    const input = brandingFromForm({ form, logo });
    await saveTemplate({ db: ctx.db, tenantId: tenant.id, template, input, actor: adminActor(session.admin) });
    return seeOther(`/admin/templates/edit?template=${encodeURIComponent(template)}&done=saved`);
  },
  { access: { role: 'admin' }, backTo: () => '/admin/templates', what: 'template save' },
);
