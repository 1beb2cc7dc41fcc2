import { loadAtAuthHost } from '@/lib/auth/federated/federated-signin';
import { authHost } from '@/lib/http/auth-host-route';
import { backToMessage } from '@/lib/http/auth-host-responses';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /federated/error on the auth host – where next-auth's own failures land: the sign-in ends,
// the reader goes back to its message.
export const GET = authHost(async ({ ctx, authBinding }) =>
  backToMessage({ ctx, loaded: await loadAtAuthHost({ ctx, cookieValue: authBinding }), reason: 'provider_error' }),
);
