import { cookies } from 'next/headers';
import { readSmallForm } from '../http/read-small-form';
import { sessionCookieName } from '../auth/recipient-session';
import { readRecipientToken } from '../envelope/recipient-token';
import type { TContext } from '../server/context';
import { resolveRouteTenant } from '../tenants/resolve-route-tenant';
import { openForReader, type OpenForReaderOptions } from './open-for-reader';
import { assertSameOrigin } from './request-guards';

// The recipient session cookie of the request being handled.
export const sessionCookieValue = async (ctx: TContext) => (await cookies()).get(sessionCookieName(ctx.config))?.value;

// openForReader with the session of the request being handled.
export const openForRequest = async (options: Omit<OpenForReaderOptions, 'sessionValue'>) =>
  openForReader({ ...options, sessionValue: await sessionCookieValue(options.ctx) });

export type OpenForFormPostOptions = { request: Request; host: string; messageId: string };

// Every form post about a message a reader has open: from this origin, on a tenant's host, by a
// session that may read the message.
export async function openForFormPost({ request, host, messageId }: OpenForFormPostOptions) {
  assertSameOrigin(request);
  const { ctx, tenant } = await resolveRouteTenant({ host });
  const opened = await openForRequest({ ctx, tenant, messageId });
  return { ctx, tenant, opened };
}

export type ReadLinkFormPostOptions = { request: Request; host: string; token: string };

// Every form post from a link's pages (passcode request, sign-in, federated start): from this
// origin, on a tenant's host, a small form (refused past the small limit before anything is done
// or recorded), with a recipient token of that tenant.
export async function readLinkFormPost({ request, host, token }: ReadLinkFormPostOptions) {
  assertSameOrigin(request);
  const { ctx, tenant } = await resolveRouteTenant({ host });
  const form = await readSmallForm({ request });
  const claims = await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token });
  return { ctx, tenant, claims, form };
}
