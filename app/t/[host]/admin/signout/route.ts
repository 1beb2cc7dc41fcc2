import { endAdminSession } from '@/lib/admin/admin-session';
import { adminRoute } from '@/lib/http/admin-route';
import { signedOutResponse } from '@/lib/http/admin-responses';
import { readSmallForm } from '@/lib/http/read-small-form';

export const runtime = 'nodejs';

// POST /admin/signout – end this admin session on the server and in the browser
export const POST = adminRoute<{ host: string }, { role: 'auditor' }>(
  async ({ request, ctx, tenant, session }) => {
    await readSmallForm({ request });
    await endAdminSession({ ctx, tenant, session });
    return signedOutResponse({ config: ctx.config });
  },
  { access: { role: 'auditor' }, what: 'admin sign-out' },
);
