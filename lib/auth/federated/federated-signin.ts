import crypto from 'node:crypto';
import { recordAudit } from '../../audit/record-audit';
import { AppError } from '../../errors';
import { loadLanding } from '../../messages/load-landing';
import { consumeRateLimit } from '../../rate-limit/rate-limits';
import type { TContext } from '../../server/context';
import type { Selectable } from 'kysely';
import type { TFederatedSignInTable } from '../../store/schema';
import { getTenantById, type TTenant } from '../../tenants/tenants';
import { getBranding } from '../../templates/get-branding';
import { getProvider, listOfferedProviders, type TIdentityProvider } from './identity-providers';

// From the button to the provider and back: 15 minutes, as long as a passcode lives plus a
// slow sign-in at the provider. The hand-off back to the tenant host is good for one minute, once.
export const FEDERATED_TTL_MS = 15 * 60_000;
export const HANDOFF_TTL_MS = 60_000;

export type TFederatedSignIn = Selectable<TFederatedSignInTable>;

const newSecret = () => crypto.randomBytes(32).toString('base64url');
export const hashSecret = (secret: string) => crypto.createHash('sha256').update(secret).digest('base64url');
// Cookie values are `<sign-in id>.<secret>`; both parts are base64url.
export const parseBindingCookie = (value: string | undefined) => {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  return match ? { id: match[1]!, secret: match[2]! } : null;
};

export type StartFederatedSignInOptions = {
  ctx: TContext;
  tenant: TTenant;
  linkToken: string;
  providerId: string;
  isKept: boolean;
  isSwitchingAccount: boolean;
  ip: string;
  now?: number;
};

// The reader chose a provider on a message's sign-in page (tenant host). Nothing is signed in
// yet: the sign-in is recorded, bound to this browser by a secret cookie, and continues on the
// auth host. Only providers the message's template offers can be chosen.
export async function startFederatedSignIn({
  ctx,
  tenant,
  linkToken,
  providerId,
  isKept,
  isSwitchingAccount,
  ip,
  now = Date.now(),
}: StartFederatedSignInOptions) {
  const landing = await loadLanding({ ctx, tenant, token: linkToken, now });
  if (landing.state !== 'ready') throw new AppError('ENVELOPE_INVALID', 'This message cannot be opened.', { state: landing.state });
  const branding = await getBranding(ctx.db, tenant.id, landing.template);
  const offered = await listOfferedProviders({ ctx, tenant, branding });
  if (!offered.some((p) => p.id === providerId)) throw new AppError('FORBIDDEN', 'That way of signing in is not offered for this message.');
  await consumeRateLimit(ctx.db, { name: 'federatedStartPerIp', key: `${tenant.id}:${ip}`, now });
  return insertFederatedSignIn({
    ctx,
    tenantId: tenant.id,
    providerId,
    now,
    row: {
      purpose: 'recipient',
      message_id: landing.messageId,
      link_token: linkToken,
      keep: isKept ? 1 : 0,
      switch_account: isSwitchingAccount ? 1 : 0,
    },
  });
}

export type InsertFederatedSignInOptions = {
  ctx: Pick<TContext, 'db'>;
  tenantId: string;
  providerId: string;
  // What the kind of sign-in adds: a recipient's message and link, an admin's page to go on to.
  row: Pick<TFederatedSignIn, 'purpose' | 'keep' | 'switch_account'> &
    Partial<Pick<TFederatedSignIn, 'message_id' | 'link_token' | 'next_path' | 'replaces_session' | 'return_host'>>;
  now: number;
};

// A sign-in, recorded and bound to this browser by the secret its tenant-host cookie carries.
export async function insertFederatedSignIn({ ctx, tenantId, providerId, row, now }: InsertFederatedSignInOptions) {
  const id = crypto.randomBytes(16).toString('base64url');
  const browserSecret = newSecret();
  await ctx.db
    .insertInto('federated_signins')
    .values({
      message_id: null,
      link_token: null,
      next_path: null,
      replaces_session: null,
      return_host: null,
      ...row,
      id,
      tenant_id: tenantId,
      provider: providerId,
      browser_hash: hashSecret(browserSecret),
      auth_browser_hash: null,
      status: 'started',
      outcome: null,
      address: null,
      handoff_hash: null,
      created_at: now,
      expires_at: now + FEDERATED_TTL_MS,
      handoff_expires_at: null,
    })
    .execute();
  return { id, cookieValue: `${id}.${browserSecret}` };
}

export type TAuthHostSignIn = { signIn: TFederatedSignIn; tenant: TTenant; provider: TIdentityProvider };

const signInExpired = () => new AppError('UNAUTHORIZED', 'This sign-in has expired. Start again from the message.');

async function withTenantAndProvider(ctx: TContext, signIn: TFederatedSignIn | undefined): Promise<TAuthHostSignIn> {
  if (!signIn) throw signInExpired();
  const tenant = await getTenantById(ctx.db, signIn.tenant_id);
  const provider = tenant && (await getProvider({ ctx, tenantId: tenant.id, providerId: signIn.provider }));
  if (!tenant || !provider) throw signInExpired();
  return { signIn, tenant, provider };
}

export type ClaimAtAuthHostOptions = { ctx: TContext; id: string; now?: number };

// The auth host's first sight of a sign-in: it is taken over by this browser, once. A second
// visit to the same address (another browser, a replay) finds it taken.
export async function claimAtAuthHost({ ctx, id, now = Date.now() }: ClaimAtAuthHostOptions) {
  if (!/^[A-Za-z0-9_-]{22}$/.test(id)) throw signInExpired();
  const authSecret = newSecret();
  const claimed = await ctx.db
    .updateTable('federated_signins')
    .set({ status: 'redirected', auth_browser_hash: hashSecret(authSecret) })
    .where('id', '=', id)
    .where('status', '=', 'started')
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  return { ...(await withTenantAndProvider(ctx, claimed)), cookieValue: `${id}.${authSecret}` };
}

export type LoadAtAuthHostOptions = { ctx: TContext; cookieValue: string | undefined; now?: number };

// The sign-in this browser has under way at the auth host, from its cookie there.
export async function loadAtAuthHost({ ctx, cookieValue, now = Date.now() }: LoadAtAuthHostOptions): Promise<TAuthHostSignIn> {
  const binding = parseBindingCookie(cookieValue);
  const signIn = binding
    ? await ctx.db
        .selectFrom('federated_signins')
        .selectAll()
        .where('id', '=', binding.id)
        .where('auth_browser_hash', '=', hashSecret(binding.secret))
        .where('status', '=', 'redirected')
        .where('expires_at', '>', now)
        .executeTakeFirst()
    : undefined;
  return withTenantAndProvider(ctx, signIn);
}

export type FailFederatedSignInOptions = { ctx: TContext; signIn: TFederatedSignIn; reason: string; now?: number };

// The provider or the callback refused: the sign-in is over, the reader is sent back to try again.
export async function failFederatedSignIn({ ctx, signIn, reason, now = Date.now() }: FailFederatedSignInOptions): Promise<void> {
  await ctx.db
    .updateTable('federated_signins')
    .set({ status: 'failed' })
    .where('id', '=', signIn.id)
    .where('status', '=', 'redirected')
    .execute();
  await recordAudit(ctx.db, {
    tenantId: signIn.tenant_id,
    messageId: signIn.message_id,
    ...(signIn.purpose === 'admin'
      ? { type: 'admin_signin_failed', data: { method: 'oidc', provider: signIn.provider, reason } }
      : { type: 'signin_failed', data: { method: signIn.provider, reason } }),
    at: now,
  });
}

export type RecordIdentityOptions = {
  ctx: TContext;
  signIn: TFederatedSignIn;
  outcome: 'ok' | 'not_recipient' | 'not_admin' | 'unverified';
  address: string | null;
  now?: number;
};

// The provider proved (or failed to prove) an address: keep the outcome for the tenant host,
// behind a fresh single-use hand-off secret that only the redirect carries.
export async function recordIdentity({ ctx, signIn, outcome, address, now = Date.now() }: RecordIdentityOptions): Promise<string> {
  const handoff = newSecret();
  const updated = await ctx.db
    .updateTable('federated_signins')
    .set({ status: 'verified', outcome, address, handoff_hash: hashSecret(handoff), handoff_expires_at: now + HANDOFF_TTL_MS })
    .where('id', '=', signIn.id)
    .where('status', '=', 'redirected')
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) throw new AppError('UNAUTHORIZED', 'This sign-in was already used.');
  return handoff;
}

export type ConsumeHandoffOptions = {
  ctx: TContext;
  tenant: TTenant;
  // A recipient's hand-off is taken only where a recipient's is expected, an admin's likewise.
  purpose: TFederatedSignIn['purpose'];
  id: string;
  handoff: string;
  cookieValue: string | undefined;
  now?: number;
};

// The tenant host takes the hand-off: it must be this tenant's, carry the right secret, arrive in
// the browser that started the sign-in (its cookie), within its minute, and only once.
export async function consumeHandoff({
  ctx,
  tenant,
  purpose,
  id,
  handoff,
  cookieValue,
  now = Date.now(),
}: ConsumeHandoffOptions): Promise<TFederatedSignIn> {
  const binding = parseBindingCookie(cookieValue);
  const refused = () => new AppError('ENVELOPE_INVALID', 'This sign-in cannot be used. Start again from the message.');
  if (!binding || binding.id !== id || !/^[A-Za-z0-9_-]{43}$/.test(handoff)) throw refused();
  const consumed = await ctx.db
    .updateTable('federated_signins')
    .set({ status: 'consumed', handoff_hash: null })
    .where('id', '=', id)
    .where('tenant_id', '=', tenant.id)
    .where('purpose', '=', purpose)
    .where('status', '=', 'verified')
    .where('handoff_hash', '=', hashSecret(handoff))
    .where('browser_hash', '=', hashSecret(binding.secret))
    .where('handoff_expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  if (!consumed) throw refused();
  return consumed;
}

export async function purgeFederatedSignIns(db: TContext['db'], now: number): Promise<number> {
  const result = await db.deleteFrom('federated_signins').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
