import { purgeAdminSessions } from '../admin/admin-session';
import { purgeFederatedSignIns } from '../auth/federated/federated-signin';
import { purgeRecipientSessions } from '../auth/recipient-session';
import { purgeRetiredDkimKeys } from '../dkim/purge-retired-dkim-keys';
import { purgeExpired } from '../envelope/revoke-message';
import { purgeRateEvents } from '../rate-limit/rate-limits';
import { purgeHeldEnvelopes } from '../store/held-envelopes';
import { purgeReaderViews } from '../store/reader-views';
import { sweepPendingEnvelopes } from '../store/pending-envelopes';
import type { TContext } from './context';

export type RunHousekeepingOptions = { ctx: TContext; now?: number };

// What one pass removed, by kind.
export type THousekeepingResult = {
  // Expired messages whose content keys were shredded (`sealpost purge` has always printed this).
  shredded: number;
  sessions: number;
  federatedSignIns: number;
  rateEvents: number;
  heldEnvelopes: number;
  // Rendered views of messages whose held envelope ran out (they live no longer than it).
  readerViews: number;
  pendingEnvelopes: number;
  // DKIM keys retired by a rotation more than a week ago.
  dkimKeys: number;
};

// Every periodic purge in one pass: the outbox worker runs it once a minute, `sealpost purge` on
// demand. Each kind goes once its own time is up; anything still live is kept.
export async function runHousekeeping({ ctx, now = Date.now() }: RunHousekeepingOptions): Promise<THousekeepingResult> {
  // Expiry first: shredding a message also releases what it held and what waited to be sent.
  const shredded = await purgeExpired({ db: ctx.db, now });
  const rateEvents = await purgeRateEvents(ctx.db, now);
  // Readers' and admins' sessions alike.
  const sessions = (await purgeRecipientSessions(ctx.db, now)) + (await purgeAdminSessions(ctx.db, now));
  const federatedSignIns = await purgeFederatedSignIns(ctx.db, now);
  const heldEnvelopes = await purgeHeldEnvelopes(ctx.db, now);
  const readerViews = await purgeReaderViews(ctx.db, now);
  const pendingEnvelopes = await sweepPendingEnvelopes(ctx.db);
  const dkimKeys = await purgeRetiredDkimKeys(ctx.db, now);
  return { shredded, sessions, federatedSignIns, rateEvents, heldEnvelopes, readerViews, pendingEnvelopes, dkimKeys };
}
