import crypto from 'node:crypto';
import type { Transaction } from 'kysely';
import { recordAudit } from '../audit/record-audit';
import { getTenantKey, type TTenantKey } from '../envelope/tenant-keys';
import { logUnknownError } from '../errors';
import { logger } from '../logger';
import { getMetrics } from '../metrics/metrics';
import { buildQueuedWrapper } from '../messages/build-queued-wrapper';
import { shareEnvelopes, type TEnvelopeShare } from '../messages/share-envelopes';
import { findConnector } from '../connectors/find-connector';
import { openInternalReply } from '../connectors/open-internal-reply';
import { isTlsError, sendOverConnector } from '../connectors/send-over-connector';
import { getTenantById } from '../tenants/tenants';
import type { TContext } from '../server/context';
import { runHousekeeping } from '../server/housekeeping';
import { settleWrapper } from '../store/pending-envelopes';
import { runTransaction } from '../store/run-transaction';
import type { TConnectorTable, TDatabase, TOutboxTable } from '../store/schema';
import { isDecryptedInbound } from '../relay/inbound-message';
import { getInboundRoute, inboundRouteConnector } from '../relay/inbound-route';
import { addressDomain, normaliseAddress } from './address';
import { signComposedMail } from '../dkim/sign-composed-mail';
import { notifySenderOfBounce } from '../messages/notify-sender-of-bounce';
import { smtpEnvelopeSender } from './system-sender';
import { claimDueMail, markFailed, markSent, onOutboxQueued, openOutboxPayload, releaseLeases, type TDeliveryFailure } from './outbox';
import type { TMailSource } from './mail-source';
import { createMailTransport, type TMailTransport } from './transport';

export type ProcessOutboxOptions = {
  ctx: TContext;
  transport: TMailTransport;
  owner?: string;
  now?: number;
  limit?: number;
  // Aborted when the worker stops: deliveries under way finish, the rest are handed back.
  signal?: AbortSignal;
};

export type TBatchResult = { claimed: number; sent: number; retried: number; bounced: number; failed: number; cancelled: number };

// How much mail one worker holds in memory at once, by estimated size. A wrapper built at
// delivery holds its message's envelope while it is sent: a 25 MB message's wrappers go one at a
// time (any mail larger than the budget goes alone), small mail goes many at a time.
const DELIVERY_BUDGET_BYTES = 32 * 1024 * 1024;
// message.html carries the envelope in base64 inside HTML: about 1.4 times the message.
const WRAPPER_OVERHEAD = 1.4;

// One pass over due mail: claim, send (several at once, over pooled connections), record each outcome.
export async function processOutboxBatch({
  ctx,
  transport,
  owner = crypto.randomUUID(),
  now = Date.now(),
  limit = 20,
  signal,
}: ProcessOutboxOptions): Promise<TBatchResult> {
  const leaseMs = ctx.config.SEALPOST_OUTBOX_LEASE_SECONDS * 1000;
  const rows = await claimDueMail(ctx.db, { owner, now, leaseMs, limit });
  const result: TBatchResult = { claimed: rows.length, sent: 0, retried: 0, bounced: 0, failed: 0, cancelled: 0 };
  if (!rows.length) return result;
  const sizes = await estimateMailSizes({ ctx, rows });
  const budget = createByteBudget({ bytes: DELIVERY_BUDGET_BYTES, slots: ctx.config.SEALPOST_OUTBOX_CONCURRENCY });
  const envelopes = shareEnvelopes({ db: ctx.db, rows });
  const unstarted: string[] = [];
  await Promise.all(
    rows.map(async (row) => {
      const release = await budget.take(sizes.get(row.id) ?? 0);
      try {
        if (signal?.aborted) unstarted.push(row.id);
        else await deliverAndRecord({ ctx, transport, row, owner, now, result, envelopes });
      } finally {
        if (row.recipient_id && row.message_id) envelopes.release(row.message_id);
        release();
      }
    }),
  );
  await releaseLeases(ctx.db, { ids: unstarted, owner });
  return result;
}

type DeliverAndRecordOptions = {
  ctx: TContext;
  transport: TMailTransport;
  row: TOutboxTable;
  owner: string;
  now: number;
  result: TBatchResult;
  envelopes: TEnvelopeShare;
};

async function deliverAndRecord({ ctx, transport, row, owner, now, result, envelopes }: DeliverAndRecordOptions): Promise<void> {
  const failure = await deliver({ ctx, transport, row, now, envelopes });
  const at = Date.now() > now ? Date.now() : now;
  // A wrapper's outcome may release its message's pending envelope (the last one out deletes it).
  // Outcomes share commits with each other and with the relay's writes (lib/store/run-transaction.ts).
  const settle = <T>(record: (db: Transaction<TDatabase>) => Promise<T>) =>
    row.recipient_id && row.message_id
      ? settleWrapper({ db: ctx.db, messageId: row.message_id, settle: record })
      : runTransaction({ db: ctx.db, work: record });
  if (!failure) {
    await settle((db) => markSent(db, row.id, owner, at));
    result.sent += 1;
    getMetrics().deliveries.inc({ kind: row.kind, result: 'sent' });
    logger.info({ outboxId: row.id, kind: row.kind, messageId: row.message_id }, 'mail delivered');
    return;
  }
  const status = await settle((db) => markFailed(db, row, owner, failure, at));
  if (status === 'queued') result.retried += 1;
  else if (status === 'bounced') result.bounced += 1;
  else if (status === 'cancelled') result.cancelled += 1;
  else result.failed += 1;
  getMetrics().deliveries.inc({ kind: row.kind, result: status === 'queued' ? 'retried' : status });
  if (failure.tls) {
    // Why the mail waits (never its content): the connector's policy, the host that fell short.
    await recordAudit(ctx.db, {
      tenantId: row.tenant_id,
      messageId: row.message_id,
      type: 'delivery_deferred',
      actor: 'system',
      data: { kind: row.kind, status, ...failure.tls, reason: failure.reason },
    });
  }
  if (status !== 'queued' && status !== 'cancelled') {
    await recordAudit(ctx.db, {
      tenantId: row.tenant_id,
      messageId: row.message_id,
      type: 'bounced',
      actor: 'system',
      data: { status, kind: row.kind },
    });
    try {
      await notifySenderOfBounce({ ctx, row, reason: failure.reason, now: at });
    } catch (error) {
      // The bounce itself is recorded; a notice that could not be queued is logged, not retried.
      logUnknownError(error, { route: 'bounce notice' });
    }
  }
  logger.warn({ outboxId: row.id, kind: row.kind, status, attempts: row.attempts + 1, reason: failure.reason }, 'mail not delivered');
}

type EstimateMailSizesOptions = { ctx: TContext; rows: TOutboxTable[] };

// Bytes each mail will hold while it is sent: a built mail its sealed payload, a wrapper its
// message's envelope (read from the messages table, not loaded).
async function estimateMailSizes({ ctx, rows }: EstimateMailSizesOptions): Promise<Map<string, number>> {
  const messageIds = [...new Set(rows.filter((r) => r.recipient_id && r.message_id).map((r) => r.message_id!))];
  const messageSizes = new Map<string, number>();
  if (messageIds.length) {
    const found = await ctx.db.selectFrom('messages').select(['id', 'size_bytes']).where('id', 'in', messageIds).execute();
    for (const m of found) messageSizes.set(m.id, m.size_bytes);
  }
  return new Map(
    rows.map((r) => [
      r.id,
      r.recipient_id && r.message_id ? Math.ceil((messageSizes.get(r.message_id) ?? 0) * WRAPPER_OVERHEAD) : (r.payload?.length ?? 0),
    ]),
  );
}

type CreateByteBudgetOptions = { bytes: number; slots: number };

// At most `slots` mails at once, and together at most `bytes` (one mail larger than that goes
// alone). Written here: the well-known limiters (p-limit, async-sema) count, they do not weigh.
function createByteBudget({ bytes, slots }: CreateByteBudgetOptions) {
  let used = 0;
  let running = 0;
  const waiting: Array<{ size: number; start(): void }> = [];
  const fits = (size: number) => running < slots && (running === 0 || used + size <= bytes);
  const admit = () => {
    while (waiting.length && fits(waiting[0]!.size)) waiting.shift()!.start();
  };
  return {
    take(size: number): Promise<() => void> {
      return new Promise((resolve) => {
        const start = () => {
          used += size;
          running += 1;
          resolve(() => {
            used -= size;
            running -= 1;
            admit();
          });
        };
        if (!waiting.length && fits(size)) start();
        else waiting.push({ size, start });
      });
    },
  };
}

type DeliverOptions = { ctx: TContext; transport: TMailTransport; row: TOutboxTable; now: number; envelopes: TEnvelopeShare };

async function deliver({ ctx, transport, row, now, envelopes }: DeliverOptions): Promise<TDeliveryFailure | null> {
  // Checked again at the last moment: whatever is in the row, mail goes only to a valid address.
  if (normaliseAddress(row.rcpt_to) !== row.rcpt_to) return { permanent: true, reason: 'invalid recipient address' };
  let tenantKey: TTenantKey;
  try {
    tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: row.tenant_id, version: row.key_version });
  } catch {
    return { permanent: true, reason: 'queued mail cannot be decrypted' };
  }
  const tenant = await getTenantById(ctx.db, row.tenant_id);
  if (!tenant) return { permanent: true, reason: 'queued mail of an unknown tenant' };
  // Each recipient's domain goes to its tenant's connector when it has one, else to SMTP_URL; mail
  // from outside goes to the tenant's own mail host, over its inbound route.
  let connector: TConnectorTable | null;
  if (row.kind === 'inbound') {
    const route = await getInboundRoute({ db: ctx.db, tenantId: row.tenant_id });
    // Removed since: the mail waits (and is retried, as for a host that is down) for a route again.
    if (!route) return { permanent: false, reason: 'the tenant has no inbound route' };
    // Mail decrypted here crosses the last hop only to a checked certificate, even if the route
    // was changed since: it waits (and the reason says why) for a route with --tls verify again.
    if (isDecryptedInbound(row.smtp_message_id) && route.tls !== 'verify')
      return { permanent: false, reason: 'decrypted inbound mail waits for an inbound route with --tls verify' };
    connector = inboundRouteConnector(route, tenant);
  } else connector = await findConnector({ db: ctx.db, tenantId: row.tenant_id, domain: addressDomain(row.rcpt_to) });
  let raw: TMailSource;
  // Mail we wrote is DKIM-signed as the tenant; relayed mail, mail from outside and a reader's
  // reply delivered decrypted (their own message, in their own name) go as they are.
  let isComposed = row.kind !== 'passthrough' && row.kind !== 'inbound';
  if (connector && row.kind === 'reply' && row.recipient_id && (await isInternalRecipient({ ctx, connector, row }))) {
    const opened = await openInternalReply({ ctx, row, now });
    if (opened.kind === 'cancelled') return { permanent: true, cancelled: true, reason: opened.reason };
    if (opened.kind === 'invalid') return { permanent: true, reason: opened.reason };
    raw = opened.raw;
    isComposed = false;
  } else if (row.recipient_id) {
    let built: Awaited<ReturnType<typeof buildQueuedWrapper>>;
    try {
      built = await buildQueuedWrapper({ ctx, row, tenantKey, now, envelopes });
    } catch (error) {
      // The database or the key store failing for a moment: retried like a 4xx.
      return { permanent: false, reason: `queued wrapper not built: ${(error as Error).name}` };
    }
    if (built.kind === 'cancelled') return { permanent: true, cancelled: true, reason: built.reason };
    if (built.kind === 'invalid') return { permanent: true, reason: built.reason };
    raw = built.mail;
  } else {
    try {
      raw = openOutboxPayload(row, tenantKey);
    } catch {
      return { permanent: true, reason: 'queued mail cannot be decrypted' };
    }
  }
  if (isComposed) {
    try {
      // Signed at each attempt, as it leaves: a signature's time and key are those of the sending.
      raw = await signComposedMail({ ctx, tenantId: row.tenant_id, raw, now: Date.now() });
    } catch (error) {
      return { permanent: false, reason: `DKIM keys not loaded: ${(error as Error).name}` };
    }
  }
  // A mail we did not write (relayed, or a reader's reply delivered as they wrote it) keeps its MAIL FROM.
  const from = isComposed ? smtpEnvelopeSender({ config: ctx.config, tenant, row }) : row.mail_from;
  try {
    let info: Awaited<ReturnType<TMailTransport['send']>>;
    if (connector) {
      const outcome = await sendOverConnector({
        connector,
        caFile: ctx.config.SEALPOST_CONNECTOR_CA_FILE,
        mail: { from, to: row.rcpt_to, raw },
      });
      if (outcome.kind === 'failed') return outcome.failure;
      info = outcome.info;
    } else {
      info = await transport.send({ id: row.id, from, to: row.rcpt_to, raw });
    }
    // The envelope nodemailer actually used must be exactly the one intended recipient.
    const isExact = info.envelopeTo.length === 1 && info.envelopeTo[0]?.toLowerCase() === row.rcpt_to && info.rejected.length === 0;
    if (!isExact) {
      logger.error({ outboxId: row.id, envelopeCount: info.envelopeTo.length }, 'SMTP envelope differs from the intended recipient');
      return { permanent: true, reason: 'SMTP envelope differs from the intended recipient' };
    }
    return null;
  } catch (error) {
    return classifySmtpError(error);
  }
}

type IsInternalRecipientOptions = { ctx: TContext; connector: NonNullable<Awaited<ReturnType<typeof findConnector>>>; row: TOutboxTable };

// A reply goes decrypted only over an internal connector that verifies its server's certificate,
// and only to the tenant's own domain: a connector edited in the database to `required` (or one
// for a partner) gets the wrapper, as an attacker in the path would otherwise read the reply.
async function isInternalRecipient({ ctx, connector, row }: IsInternalRecipientOptions): Promise<boolean> {
  if (connector.internal !== 1 || connector.tls !== 'verify') return false;
  const tenant = await getTenantById(ctx.db, row.tenant_id);
  if (!tenant) return false;
  const own = tenant.mail_domain.toLowerCase();
  const domain = addressDomain(row.rcpt_to);
  return (domain === own || domain.endsWith(`.${own}`)) && (connector.domain === domain || connector.domain === own);
}

// 5xx is a bounce; 4xx and connection trouble are retried. A TLS requirement not met (nodemailer's
// ETLS, even with the server's 5xx to STARTTLS) is retried: it is this hop's fault, not the mail's.
export function classifySmtpError(error: unknown): TDeliveryFailure {
  const e = error as { responseCode?: number; code?: string; originalCode?: string; command?: string; response?: string; message?: string };
  if (isTlsError(e))
    return {
      permanent: false,
      reason: `TLS not met at SMTP_URL: ${String(e.message ?? '')
        .replace(/\s+/g, ' ')
        .slice(0, 300)}`,
      tls: { policy: 'smtp_url', host: 'SMTP_URL', domain: '*' },
    };
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reason = code
    ? `${code} ${String(e.response ?? '')
        .replace(/\s+/g, ' ')
        .slice(0, 200)}`
    : `${e.code ?? 'ERROR'} ${String(e.message ?? '').slice(0, 200)}`;
  return { permanent: code !== undefined && code >= 500, reason };
}

export type StartOutboxWorkerOptions = { ctx: TContext; transport?: TMailTransport };

// The long-running loop (in the web process by default, or `sealpost worker`): delivers due
// mail, and once a minute runs the housekeeping (expired content keys shredded, stale rows purged).
// It looks every SEALPOST_OUTBOX_POLL_MS, and at once when this process has just queued mail.
export function startOutboxWorker({
  ctx,
  transport = createMailTransport({
    smtpUrl: ctx.config.SMTP_URL,
    dataDir: ctx.config.dataDir,
    maxConnections: ctx.config.SEALPOST_OUTBOX_CONCURRENCY,
  }),
}: StartOutboxWorkerOptions) {
  const owner = crypto.randomUUID();
  const stopping = new AbortController();
  let isStopped = false;
  let isRunning = false;
  let isWoken = false;
  let lastPurge = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      for (;;) {
        isWoken = false;
        // A batch per slot: the sends of one batch overlap, and the next batch is claimed when it is done.
        const r = await processOutboxBatch({
          ctx,
          transport,
          owner,
          limit: Math.max(20, 2 * ctx.config.SEALPOST_OUTBOX_CONCURRENCY),
          signal: stopping.signal,
        });
        if ((r.claimed === 0 && !isWoken) || isStopped) break;
      }
      if (!isStopped && Date.now() - lastPurge > 60_000) {
        lastPurge = Date.now();
        await runHousekeeping({ ctx, now: lastPurge });
      }
    } catch (error) {
      logUnknownError(error, { route: 'outbox worker' });
    }
  };
  const loop = () => {
    if (isStopped) return;
    clearTimeout(timer);
    isRunning = true;
    running = tick().finally(() => {
      isRunning = false;
      if (isStopped) return;
      if (isWoken) loop();
      else timer = setTimeout(loop, ctx.config.SEALPOST_OUTBOX_POLL_MS);
    });
  };
  const stopListening = onOutboxQueued(() => {
    isWoken = true;
    if (!isRunning) loop();
  });
  loop();
  logger.info({ transport: transport.kind }, 'outbox worker started');
  return {
    // Takes nothing new; the mails being sent finish, the rest of the batch is handed back.
    async stop() {
      isStopped = true;
      stopping.abort();
      stopListening();
      clearTimeout(timer);
      await running;
      transport.close();
    },
  };
}
