import { insertFederatedSignIn } from '../auth/federated/federated-signin';
import { getProvider } from '../auth/federated/identity-providers';
import { AppError } from '../errors';
import type { TContext } from '../server/context';
import { bareHost, type TTenant } from '../tenants/tenants';
import type { TAdminSession } from './admin-session';
import { limitAdminSignIn } from './limit-admin-signin';

export type StartAdminOidcSignInOptions = {
  ctx: TContext;
  tenant: TTenant;
  providerId: string;
  // The tenant host the request came to (the hand-off returns there).
  host: string;
  next: string;
  // A re-verification: the session it will replace, and the provider asked to sign in afresh.
  session: TAdminSession | null;
  isReverify: boolean;
  ip: string;
  now?: number;
};

// "Sign in with <provider>" on the console's sign-in page: a federated sign-in for the console,
// through the auth host and the provider's one redirect URI as a reader's, bound to this browser.
// Only a provider of this tenant that it opened to its admins can be chosen.
export async function startAdminOidcSignIn({
  ctx,
  tenant,
  providerId,
  host,
  next,
  session,
  isReverify,
  ip,
  now = Date.now(),
}: StartAdminOidcSignInOptions) {
  const provider = await getProvider({ ctx, tenantId: tenant.id, providerId });
  if (provider?.kind !== 'oidc' || !provider.forAdmins)
    throw new AppError('BAD_REQUEST', 'That provider does not sign admins in to this console.');
  await limitAdminSignIn({ db: ctx.db, tenantId: tenant.id, ip, now });
  return insertFederatedSignIn({
    ctx,
    tenantId: tenant.id,
    providerId: provider.id,
    now,
    row: {
      purpose: 'admin',
      keep: 0,
      switch_account: isReverify ? 1 : 0,
      next_path: next,
      return_host: bareHost(host),
      replaces_session: isReverify && session ? session.id : null,
    },
  });
}
