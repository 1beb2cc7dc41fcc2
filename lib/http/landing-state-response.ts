import 'server-only';
import { loadLanding } from '../messages/load-landing';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { getBranding } from '../templates/get-branding';
import { seeOther } from './see-other';
import { statePageResponse } from './state-page-response';

export type LandingStateResponseOptions = { request: Request; ctx: TContext; tenant: TTenant; token: string };

// GET /r/<token>/gone – where a link that can no longer be used says why, with its status
// (410 revoked or expired, 400 damaged). The state is worked out again here, so this page never
// claims a state the message is not in; a link that works goes back to its landing page.
export async function landingStateResponse({ request, ctx, tenant, token }: LandingStateResponseOptions): Promise<Response> {
  const landing = await loadLanding({ ctx, tenant, token });
  if (landing.state === 'ready') return seeOther(`/r/${token}`);
  // A revoked or expired link was a real one: its page is in the message's own template.
  const branding = await getBranding(ctx.db, tenant.id, landing.state === 'invalid' ? undefined : landing.template);
  const sender = landing.state === 'invalid' ? '' : landing.sender;
  return statePageResponse({ request, branding, tenantName: tenant.name, state: landing.state, sender });
}
