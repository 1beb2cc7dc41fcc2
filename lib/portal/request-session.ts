import 'server-only';
import { cookies } from 'next/headers';
import { readSmallForm } from '../http/read-small-form';
import { sessionCookieName } from '../auth/recipient-session';
import { readRecipientToken } from '../envelope/recipient-token';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { openForReader, type OpenForReaderOptions } from './open-for-reader';

// The recipient session cookie of the request being handled.
export const sessionCookieValue = async (ctx: TContext) => (await cookies()).get(sessionCookieName(ctx.config))?.value;

// openForReader with the session of the request being handled.
export const openForRequest = async (options: Omit<OpenForReaderOptions, 'sessionValue'>) =>
  openForReader({ ...options, sessionValue: await sessionCookieValue(options.ctx) });

export type ReadLinkFormOptions = { ctx: TContext; tenant: TTenant; request: Request; token: string };

// Every form post from a link's pages (passcode request, sign-in, federated start), once
// portalForm has checked its origin and tenant: a small form (refused past the small limit before
// anything is done or recorded), with a recipient token of that tenant.
export async function readLinkForm({ ctx, tenant, request, token }: ReadLinkFormOptions) {
  const form = await readSmallForm({ request });
  const claims = await readRecipientToken({ db: ctx.db, master: ctx.master, tenantId: tenant.id, token });
  return { claims, form };
}
