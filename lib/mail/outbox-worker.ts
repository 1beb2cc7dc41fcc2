import crypto from 'node:crypto';
import { recordAudit } from '../audit/record-audit';
import { getTenantKey, type TTenantKey } from '../envelope/tenant-keys';
import { logUnknownError } from '../errors';
import { logger } from '../logger';
import { buildQueuedWrapper } from '../messages/build-queued-wrapper';
import { findConnector } from '../connectors/find-connector';
import { openInternalReply } from '../connectors/open-internal-reply';
import { isTlsError, sendOverConnector } from '../connectors/send-over-connector';
import { getTenantById } from '../tenants/tenants';
import type { TContext } from '../server/context';
import { runHousekeeping } from '../server/housekeeping';
import { settleWrapper } from '../store/pending-envelopes';
import type { TOutboxTable } from '../store/schema';
import { addressDomain, normaliseAddress } from './address';
import { claimDueMail, markFailed, markSent, openOutboxPayload, type TDeliveryFailure } from './outbox';
import { createMailTransport, type TMailTransport } from './transport';

export type ProcessOutboxOptions = {
  ctx: TContext;
  transport: TMailTransport;
  owner?: string;
  now?: number;
  limit?: number;
};

export type TBatchResult = { claimed: number; sent: number; retried: number; bounced: number; failed: number; cancelled: number };

// One pass over due mail: claim, send each with nodemailer, record the outcome.
export async function processOutboxBatch({
  ctx,
  transport,
  owner = crypto.randomUUID(),
  now = Date.now(),
  limit = 20,
}: ProcessOutboxOptions): Promise<TBatchResult> {
  const leaseMs = ctx.config.SEALPOST_OUTBOX_LEASE_SECONDS * 1000;
  const rows = await claimDueMail(ctx.db, { owner, now, leaseMs, limit });
  const result: TBatchResult = { claimed: rows.length, sent: 0, retried: 0, bounced: 0, failed: 0, cancelled: 0 };
  // One at a time: a wrapper built at delivery holds its message's envelope only while it is sent.
  for (const row of rows) {
    const failure = await deliver({ ctx, transport, row, now });
    const at = Date.now() > now ? Date.now() : now;
    // A wrapper's outcome may release its message's pending envelope (the last one out deletes it).
    const settle = <T>(record: (db: Parameters<typeof markSent>[0]) => Promise<T>) =>
      row.recipient_id && row.message_id ? settleWrapper({ db: ctx.db, messageId: row.message_id, settle: record }) : record(ctx.db);
    if (!failure) {
      await settle((db) => markSent(db, row.id, owner, at));
      result.sent += 1;
      logger.info({ outboxId: row.id, kind: row.kind, messageId: row.message_id }, 'mail delivered');
      continue;
    }
    const status = await settle((db) => markFailed(db, row, owner, failure, at));
    if (status === 'queued') result.retried += 1;
    else if (status === 'bounced') result.bounced += 1;
    else if (status === 'cancelled') result.cancelled += 1;
    else result.failed += 1;
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
    }
    logger.warn({ outboxId: row.id, kind: row.kind, status, attempts: row.attempts + 1, reason: failure.reason }, 'mail not delivered');
  }
  return result;
}

type DeliverOptions = { ctx: TContext; transport: TMailTransport; row: TOutboxTable; now: number };

async function deliver({ ctx, transport, row, now }: DeliverOptions): Promise<TDeliveryFailure | null> {
  // Checked again at the last moment: whatever is in the row, mail goes only to a valid address.
  if (normaliseAddress(row.rcpt_to) !== row.rcpt_to) return { permanent: true, reason: 'invalid recipient address' };
  let tenantKey: TTenantKey;
  try {
    tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: row.tenant_id, version: row.key_version });
  } catch {
    return { permanent: true, reason: 'queued mail cannot be decrypted' };
  }
  // Each recipient's domain goes to its tenant's connector when it has one, else to SMTP_URL.
  const connector = await findConnector({ db: ctx.db, tenantId: row.tenant_id, domain: addressDomain(row.rcpt_to) });
  let raw: Buffer;
  if (connector && row.kind === 'reply' && row.recipient_id && (await isInternalRecipient({ ctx, connector, row }))) {
    const opened = await openInternalReply({ ctx, row, now });
    if (opened.kind === 'cancelled') return { permanent: true, cancelled: true, reason: opened.reason };
    if (opened.kind === 'invalid') return { permanent: true, reason: opened.reason };
    raw = opened.raw;
  } else if (row.recipient_id) {
    let built: Awaited<ReturnType<typeof buildQueuedWrapper>>;
    try {
      built = await buildQueuedWrapper({ ctx, row, tenantKey, now });
    } catch (error) {
      // The database or the key store failing for a moment: retried like a 4xx.
      return { permanent: false, reason: `queued wrapper not built: ${(error as Error).name}` };
    }
    if (built.kind === 'cancelled') return { permanent: true, cancelled: true, reason: built.reason };
    if (built.kind === 'invalid') return { permanent: true, reason: built.reason };
    raw = built.raw;
  } else {
    try {
      raw = openOutboxPayload(row, tenantKey);
    } catch {
      return { permanent: true, reason: 'queued mail cannot be decrypted' };
    }
  }
  try {
    let info: Awaited<ReturnType<TMailTransport['send']>>;
    if (connector) {
      const outcome = await sendOverConnector({
        connector,
        caFile: ctx.config.SEALPOST_CONNECTOR_CA_FILE,
        mail: { from: row.mail_from, to: row.rcpt_to, raw },
      });
      if (outcome.kind === 'failed') return outcome.failure;
      info = outcome.info;
    } else {
      info = await transport.send({ id: row.id, from: row.mail_from, to: row.rcpt_to, raw });
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
export function startOutboxWorker({
  ctx,
  transport = createMailTransport({ smtpUrl: ctx.config.SMTP_URL, dataDir: ctx.config.dataDir }),
}: StartOutboxWorkerOptions) {
  const owner = crypto.randomUUID();
  let isStopped = false;
  let lastPurge = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      for (;;) {
        const r = await processOutboxBatch({ ctx, transport, owner });
        if (r.claimed === 0 || isStopped) break;
      }
      if (Date.now() - lastPurge > 60_000) {
        lastPurge = Date.now();
        await runHousekeeping({ ctx, now: lastPurge });
      }
    } catch (error) {
      logUnknownError(error, { route: 'outbox worker' });
    }
  };
  const loop = () => {
    if (isStopped) return;
    running = tick().finally(() => {
      if (!isStopped) timer = setTimeout(loop, ctx.config.SEALPOST_OUTBOX_POLL_MS);
    });
  };
  loop();
  logger.info({ transport: transport.kind }, 'outbox worker started');
  return {
    async stop() {
      isStopped = true;
      clearTimeout(timer);
      await running;
      transport.close();
    },
  };
}
