import { landingStateResponse } from '@/lib/http/landing-state-response';
import { portalGet } from '@/lib/http/portal-get';

export const runtime = 'nodejs';

// GET /r/<token>/gone – a revoked, expired or damaged link's page, with its status
export const GET = portalGet<{ host: string; token: string }>(async ({ request, params: { token }, ctx, tenant }) =>
  landingStateResponse({ request, ctx, tenant, token }),
);
