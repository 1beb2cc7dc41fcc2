import 'server-only';
import { notFound } from 'next/navigation';
import type { NextRequest } from 'next/server';
import { getConfig, type TConfig } from '../env';
import { isMailboxAllowed } from './mailbox-access';
import { toErrorResponse } from './error-response';
import { handleRoute, type TRouteHandler } from './route-handler';

export type TMailboxRouteContext<P> = { request: NextRequest; params: P; config: TConfig };

export type MailboxRouteOptions = { route: string };

// Every route handler of the local mailbox: only where the mailbox is allowed (a plain 404
// elsewhere, as its pages answer), refusals as JSON.
export function mailboxRoute<P>(
  handler: (context: TMailboxRouteContext<P>) => Promise<Response>,
  { route }: MailboxRouteOptions,
): TRouteHandler<P> {
  return handleRoute<P>({
    run: async (request, params) => {
      const config = getConfig();
      if (!isMailboxAllowed({ config, headers: request.headers })) notFound();
      return handler({ request, params, config });
    },
    onError: (error) => toErrorResponse(error, { route }),
  });
}
