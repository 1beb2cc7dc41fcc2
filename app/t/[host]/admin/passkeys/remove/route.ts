import { removePasskey } from '@/lib/admin/remove-passkey';
import { adminRoute } from '@/lib/http/admin-route';
import { readSmallForm } from '@/lib/http/read-small-form';
import { seeOther } from '@/lib/http/see-other';

export const runtime = 'nodejs';

// POST /admin/passkeys/remove – remove one of your own passkeys (never the last)
export const POST = adminRoute<{ host: string }, { role: 'auditor' }>(
  async ({ request, ctx, session }) => {
    const form = await readSmallForm({ request });
    await removePasskey({ db: ctx.db, admin: session.admin, passkeyId: form.get('id') ?? '' });
    return seeOther('/admin/passkeys?done=removed');
  },
  { access: { role: 'auditor' }, backTo: () => '/admin/passkeys', what: 'passkey remove' },
);
