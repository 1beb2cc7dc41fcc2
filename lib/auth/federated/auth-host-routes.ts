import { cookies } from 'next/headers';
import { NextResponse, type NextRequest } from 'next/server';
import { ZBranding } from '../../templates/schema';
import { readRecipientToken } from '../../envelope/recipient-token';
import { AppError, isAppError, logUnknownError } from '../../errors';
import { logger } from '../../logger';
import { statePageResponse } from '../../portal/state-page';
import { getContext, type TContext } from '../../server/context';
import { getMessage, listRecipients } from '../../store/messages';
import { portalOrigin } from '../../tenants/tenants';
import { getBranding } from '../../templates/get-branding';
import { authOrigin, isAuthHost } from './auth-host';
import { AUTH_BINDING, bindingCookieName, setBindingCookie } from './binding-cookies';
import { claimAtAuthHost, failFederatedSignIn, loadAtAuthHost, recordIdentity, type TAuthHostSignIn } from './federated-signin';
import { buildAuthOptions, handleNextAuthCallback, runNextAuth } from './next-auth';
import { verifiedAddress } from './verified-address';

// The auth host's handlers: the step to the provider, the provider's callback, and the way back
// to the tenant host when anything fails. Nothing here is served on any other host.

// Every handler here: on the auth host only (a plain 404 elsewhere); a sign-in this browser cannot
// continue (expired, taken, begun elsewhere) gets the page that says so.
async function onAuthHost(request: Request, handle: (ctx: TContext) => Promise<Response>): Promise<Response> {
  const ctx = await getContext();
  if (!isAuthHost(ctx.config, request.headers.get('host'))) return new NextResponse('Not found', { status: 404 });
  try {
    return await handle(ctx);
  } catch (error) {
    if (isAppError(error)) return unusableResponse(request, ctx);
    throw error;
  }
}

// Cookies next-auth set (its CSRF token, state, PKCE verifier, nonce), carried onto our response.
// Last: NextResponse's cookies API rewrites the Set-Cookie headers it did not set itself.
function withCookiesOf(response: NextResponse, from: Response): NextResponse {
  for (const cookie of from.headers.getSetCookie()) response.headers.append('set-cookie', cookie);
  return response;
}

async function brandingOf(ctx: TContext, { signIn, tenant }: TAuthHostSignIn) {
  return getBranding(ctx.db, tenant.id, (await getMessage(ctx.db, signIn.message_id))?.template);
}

// No sign-in this browser can continue: expired, already used, or begun elsewhere.
async function unusableResponse(request: Request, ctx: TContext): Promise<NextResponse> {
  const page = await statePageResponse({ request, branding: ZBranding.parse({}), tenantName: 'Sealpost', state: 'signInUnusable' });
  const response = new NextResponse(page.body, { status: page.status, headers: page.headers });
  setBindingCookie({ response, config: ctx.config, name: AUTH_BINDING, value: null });
  return response;
}

// The sign-in failed at the provider or on the way back: over, and back to the message's page.
async function backToMessage(ctx: TContext, loaded: TAuthHostSignIn, reason: string): Promise<NextResponse> {
  await failFederatedSignIn({ ctx, signIn: loaded.signIn, reason });
  logger.warn({ provider: loaded.provider.id, tenant: loaded.tenant.slug, reason }, 'federated sign-in failed');
  const response = NextResponse.redirect(`${portalOrigin(ctx.config, loaded.tenant)}/r/${loaded.signIn.link_token}?error=FEDERATED_FAILED`, 303);
  setBindingCookie({ response, config: ctx.config, name: AUTH_BINDING, value: null });
  return response;
}

const cookiesOf = (request: NextRequest) => Object.fromEntries(request.cookies.getAll().map((c) => [c.name, c.value]));

const authCookie = async (ctx: TContext) => (await cookies()).get(bindingCookieName(ctx.config, AUTH_BINDING))?.value;

export type AuthHostRouteOptions = { request: NextRequest; id: string };

// GET /federated/<id> – the first step on the auth host: this browser takes the sign-in over, and
// a page moves on to the provider by itself. (A page, not a redirect: the reader arrived from a
// form, and a form's redirects may only go where the page's form-action allows.)
export const continueToProvider = ({ request, id }: AuthHostRouteOptions) =>
  onAuthHost(request, async (ctx) => {
    const claimed = await claimAtAuthHost({ ctx, id });
    const csrf = await runNextAuth({ ctx, options: await buildAuthOptions({ ctx, tenantId: claimed.tenant.id, provider: claimed.provider, cookies: cookiesOf(request) }), action: 'csrf' });
    const next = `/federated/${id}/go`;
    const page = await statePageResponse({
      request, branding: await brandingOf(ctx, claimed), tenantName: claimed.tenant.name, state: 'toProvider', values: { provider: claimed.provider.label }, refreshTo: next, continueTo: next,
    });
    const response = new NextResponse(page.body, { status: page.status, headers: page.headers });
    setBindingCookie({ response, config: ctx.config, name: AUTH_BINDING, value: claimed.cookieValue });
    return withCookiesOf(response, csrf);
  });

// GET /federated/<id>/go – next-auth's authorization request (state, PKCE, nonce in its cookies),
// answered as a redirect to the provider.
export const redirectToProvider = ({ request, id }: AuthHostRouteOptions) =>
  onAuthHost(request, async (ctx) => {
    const loaded = await loadAtAuthHost({ ctx, cookieValue: await authCookie(ctx) });
    if (loaded.signIn.id !== id) throw new AppError('UNAUTHORIZED', 'This sign-in is not the one under way.');
    const { signIn, tenant, provider } = loaded;
    const options = await buildAuthOptions({ ctx, tenantId: tenant.id, provider, cookies: cookiesOf(request) });
    const csrf = await runNextAuth({ ctx, options, action: 'csrf' });
    // A fresh CSRF cookie means the browser kept none from the step before: it refuses cookies.
    if (csrf.headers.getSetCookie().some((c) => /csrf-token=/.test(c))) return backToMessage(ctx, loaded, 'no_cookies');
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    // The address the message went to helps the reader pick the right account; after a refusal,
    // the provider is asked to let them choose another.
    const query: Record<string, string> = signIn.switch_account
      ? { prompt: provider.kind === 'oidc' ? 'login' : 'select_account' }
      : { login_hint: (await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token: signIn.link_token })).address };
    const started = await runNextAuth({ ctx, options, action: 'signin', providerId: provider.id, form: { csrfToken, callbackUrl: authOrigin(ctx.config) }, query });
    const location = started.headers.get('location');
    // next-auth sends its own failures (CSRF, an unreachable provider) back to the auth host.
    if (!location || location.startsWith(authOrigin(ctx.config))) return backToMessage(ctx, loaded, 'authorization_request');
    return withCookiesOf(NextResponse.redirect(location, 303), started);
  });

export type ProviderCallbackOptions = { request: NextRequest; segments: string[] };

// GET /api/auth/callback/<provider> – the one redirect URI of each provider, for every tenant.
// The sign-in is the one this browser started (its cookie); the callback must be for the provider
// it started with; next-auth checks state, PKCE, nonce and the ID token; then the address must be
// proven and a recipient's. Whatever the outcome, the tenant host learns it through a hand-off.
export const handleProviderCallback = ({ request, segments }: ProviderCallbackOptions) =>
  onAuthHost(request, async (ctx) => {
    const [action, providerId, ...rest] = segments;
    // next-auth's own error and sign-in pages are never shown: its redirects there end the sign-in.
    if ((action === 'error' || action === 'signin') && !providerId) return NextResponse.redirect(`${authOrigin(ctx.config)}/federated/error`, 303);
    if (action !== 'callback' || !providerId || rest.length > 0) return new NextResponse('Not found', { status: 404 });
    return takeCallback({ ctx, request, providerId, loaded: await loadAtAuthHost({ ctx, cookieValue: await authCookie(ctx) }) });
  });

type TakeCallbackOptions = { ctx: TContext; request: NextRequest; providerId: string; loaded: TAuthHostSignIn };

// The callback of the sign-in this browser has under way, for the provider it named.
async function takeCallback({ ctx, request, providerId, loaded }: TakeCallbackOptions): Promise<Response> {
  const { signIn, tenant, provider } = loaded;
  // A callback meant for one provider is never taken at another's address.
  if (provider.id !== providerId) return backToMessage(ctx, loaded, 'wrong_provider');
  let handoffUrl: string | null = null;
  const options = await buildAuthOptions({
    ctx, tenantId: tenant.id, provider, cookies: cookiesOf(request),
    onIdentity: async (claims) => {
      const proven = verifiedAddress({ provider, claims });
      const isRecipient = proven.outcome === 'ok' && (await listRecipients(ctx.db, signIn.message_id)).some((r) => r.address === proven.address);
      const outcome = proven.outcome === 'ok' && !isRecipient ? 'not_recipient' : proven.outcome;
      const handoff = await recordIdentity({ ctx, signIn, outcome, address: proven.address });
      handoffUrl = `${portalOrigin(ctx.config, tenant)}/federated/complete?id=${signIn.id}&h=${handoff}`;
      return handoffUrl;
    },
  });
  let answered: Response;
  try {
    answered = await handleNextAuthCallback({ request, options, providerId });
  } catch (error) {
    logUnknownError(error, { route: 'GET /api/auth/callback/[provider]' });
    return backToMessage(ctx, loaded, 'callback_error');
  }
  if (handoffUrl && answered.headers.get('location') === handoffUrl) {
    const response = NextResponse.redirect(handoffUrl, 303);
    setBindingCookie({ response, config: ctx.config, name: AUTH_BINDING, value: null });
    return withCookiesOf(response, answered);
  }
  // next-auth refused the callback: state, PKCE, nonce, the code, or the ID token did not hold.
  return withCookiesOf(await backToMessage(ctx, loaded, 'callback_refused'), answered);
}

// GET /federated/error – where next-auth's own failures land: the sign-in ends, the reader goes back.
export const federatedErrorResponse = ({ request }: { request: NextRequest }) =>
  onAuthHost(request, async (ctx) => backToMessage(ctx, await loadAtAuthHost({ ctx, cookieValue: await authCookie(ctx) }), 'provider_error'));
