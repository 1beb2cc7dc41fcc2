import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Kysely, Transaction } from 'kysely';
import { openBytes, sealBytes } from '../envelope/aead';
import { deriveTenantSubkey, type TTenantKey } from '../envelope/tenant-keys';
import type { TDatabase, TOutboxTable } from '../store/schema';

type TDbLike = Kysely<TDatabase> | Transaction<TDatabase>;

// Passcode mail goes first: a recipient is waiting at the screen for it.
export const OUTBOX_PRIORITY = { passcode: 0, reply: 5, wrapper: 10, passthrough: 10, smime: 10, inbound: 10, notification: 20 } as const;
// Retry like an MTA: minutes apart at first, then every four hours, for five days.
export const RETRY_DELAYS_MINUTES = [1, 2, 5, 10, 20, 30, 60, 120, 240];
export const GIVE_UP_AFTER_MS = 5 * 24 * 60 * 60 * 1000;

const payloadAad = (outboxId: string) => `sealpost:outbox:v1:${outboxId}`;
// Its own AAD: a wrapper's small payload can never be taken for a built mail, nor the reverse.
const wrapperAad = (outboxId: string) => `sealpost:outbox-wrapper:v1:${outboxId}`;

export const newOutboxId = () => crypto.randomUUID();

const queued = new EventEmitter();
queued.setMaxListeners(0);

// Called once mail is committed to the outbox: a worker of this process looks at once rather
// than at its next poll (a recipient waiting for a passcode, a relay's mail on its way).
export const notifyOutbox = () => {
  queued.emit('queued');
};

export const onOutboxQueued = (listener: () => void) => {
  queued.on('queued', listener);
  return () => {
    queued.off('queued', listener);
  };
};

export type TOutboxMail = {
  id: string;
  tenantId: string;
  messageId: string | null;
  kind: TOutboxTable['kind'];
  mailFrom: string;
  rcptTo: string;
  smtpMessageId: string;
  // The mail, or its parts in order (a relayed mail: the Received field and the bytes as received).
  raw: Buffer | readonly Buffer[];
};

export type EnqueueMailOptions = { tenantKey: TTenantKey; mail: TOutboxMail; now?: number };

// The built mail is stored sealed under the tenant key (it may show a subject or a passcode),
// so the database holds no readable mail even while it waits.
export async function enqueueMail(db: TDbLike, { tenantKey, mail, now = Date.now() }: EnqueueMailOptions): Promise<void> {
  const payload = sealBytes({ key: deriveTenantSubkey(tenantKey, 'outbox'), plaintext: mail.raw, aad: payloadAad(mail.id) });
  await insertOutboxRow(db, { mail, tenantKey, payload, recipientId: null, now });
}

// What a wrapper built at delivery needs that is not stored in the clear: the subject is content.
export type TWrapperSpec = { senderName: string; subject: string };
export type TQueuedWrapper = Omit<TOutboxMail, 'raw'> & { recipientId: string; spec: TWrapperSpec };
export type EnqueueWrapperOptions = { tenantKey: TTenantKey; wrapper: TQueuedWrapper; now?: number };

// A wrapper mail queued without its body: the worker builds it, with the recipient's token and
// the message's one stored envelope, when it sends it (500 recipients of a 25 MB message would
// otherwise hold 500 copies of the envelope, in memory and in the outbox).
export async function enqueueWrapper(db: TDbLike, { tenantKey, wrapper, now = Date.now() }: EnqueueWrapperOptions): Promise<void> {
  const plaintext = Buffer.from(JSON.stringify({ senderName: wrapper.spec.senderName, subject: wrapper.spec.subject }));
  const payload = sealBytes({ key: deriveTenantSubkey(tenantKey, 'outbox'), plaintext, aad: wrapperAad(wrapper.id) });
  await insertOutboxRow(db, { mail: wrapper, tenantKey, payload, recipientId: wrapper.recipientId, now });
}

export const openWrapperSpec = (row: Pick<TOutboxTable, 'id' | 'payload'>, tenantKey: TTenantKey): TWrapperSpec => {
  if (!row.payload) throw new Error('outbox row has no payload');
  const json = JSON.parse(
    openBytes({ key: deriveTenantSubkey(tenantKey, 'outbox'), sealed: row.payload, aad: wrapperAad(row.id) }).toString('utf8'),
  ) as Record<string, unknown>;
  if (typeof json.senderName !== 'string' || typeof json.subject !== 'string') throw new Error('outbox wrapper payload is malformed');
  return { senderName: json.senderName, subject: json.subject };
};

type InsertOutboxRowOptions = {
  mail: Omit<TOutboxMail, 'raw'>;
  tenantKey: TTenantKey;
  payload: Buffer;
  recipientId: string | null;
  now: number;
};

async function insertOutboxRow(db: TDbLike, { mail, tenantKey, payload, recipientId, now }: InsertOutboxRowOptions): Promise<void> {
  await db
    .insertInto('outbox')
    .values({
      id: mail.id,
      tenant_id: mail.tenantId,
      message_id: mail.messageId,
      kind: mail.kind,
      priority: OUTBOX_PRIORITY[mail.kind],
      status: 'queued',
      mail_from: mail.mailFrom,
      rcpt_to: mail.rcptTo,
      smtp_message_id: mail.smtpMessageId,
      key_version: tenantKey.version,
      payload,
      recipient_id: recipientId,
      attempts: 0,
      next_attempt_at: now,
      lease_until: null,
      lease_owner: null,
      last_error: null,
      created_at: now,
      sent_at: null,
    })
    .execute();
}

export const openOutboxPayload = (row: Pick<TOutboxTable, 'id' | 'payload'>, tenantKey: TTenantKey): Buffer => {
  if (!row.payload) throw new Error('outbox row has no payload');
  return openBytes({ key: deriveTenantSubkey(tenantKey, 'outbox'), sealed: row.payload, aad: payloadAad(row.id) });
};

export type ClaimDueMailOptions = { owner: string; now: number; leaseMs: number; limit: number };

// Leases due rows to one worker. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets instances share the
// queue without waiting on each other; SQLite has one writer, so its transaction is enough.
// A lease that runs out (the worker died) makes the row due again: mail is sent at least once.
export async function claimDueMail(db: Kysely<TDatabase> & { dialectName: string }, o: ClaimDueMailOptions): Promise<TOutboxTable[]> {
  return db.transaction().execute(async (trx) => {
    let query = trx
      .selectFrom('outbox')
      .select('id')
      .where('status', '=', 'queued')
      .where('next_attempt_at', '<=', o.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', o.now)]))
      .orderBy('priority')
      .orderBy('next_attempt_at')
      .limit(o.limit);
    if (db.dialectName === 'postgres') query = query.forUpdate().skipLocked();
    const ids = (await query.execute()).map((r) => r.id);
    if (!ids.length) return [];
    return trx
      .updateTable('outbox')
      .set({ lease_owner: o.owner, lease_until: o.now + o.leaseMs })
      .where('id', 'in', ids)
      .returningAll()
      .execute();
  });
}

export type ReleaseLeasesOptions = { ids: string[]; owner: string };

// A stopping worker hands back the rows it claimed but did not start: due again at once for
// another worker, rather than when the lease runs out.
export async function releaseLeases(db: TDbLike, { ids, owner }: ReleaseLeasesOptions): Promise<void> {
  if (!ids.length) return;
  await db
    .updateTable('outbox')
    .set({ lease_until: null, lease_owner: null })
    .where('id', 'in', ids)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'queued')
    .execute();
}

export type ReadOutboxDepthOptions = { db: TDbLike; now?: number };

// For the metrics: how much mail waits, and how long the oldest has.
export async function readOutboxDepth({ db, now = Date.now() }: ReadOutboxDepthOptions) {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => [eb.fn.countAll<string | number>().as('depth'), eb.fn.min<string | number | null>('created_at').as('oldest')])
    .where('status', '=', 'queued')
    .executeTakeFirst();
  const oldest = row?.oldest == null ? null : Number(row.oldest);
  return { depth: Number(row?.depth ?? 0), oldestAgeSeconds: oldest === null ? 0 : Math.max(0, (now - oldest) / 1000) };
}

export async function markSent(db: TDbLike, id: string, owner: string, now: number): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'sent', payload: null, sent_at: now, lease_until: null, lease_owner: null, last_error: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

// cancelled: not sent and never retried, and not a bounce (the message was revoked or expired first).
// tls: a TLS requirement not met (always temporary), audited as delivery_deferred.
export type TDeliveryFailure = {
  permanent: boolean;
  reason: string;
  cancelled?: boolean;
  tls?: { policy: string; host: string; domain: string };
};

export async function markFailed(
  db: TDbLike,
  row: TOutboxTable,
  owner: string,
  failure: TDeliveryFailure,
  now: number,
): Promise<TOutboxTable['status']> {
  const attempts = row.attempts + 1;
  const isGivingUp = failure.permanent || now - row.created_at >= GIVE_UP_AFTER_MS;
  const status = failure.cancelled ? 'cancelled' : failure.permanent ? 'bounced' : isGivingUp ? 'failed' : 'queued';
  const delayMinutes = RETRY_DELAYS_MINUTES[Math.min(attempts - 1, RETRY_DELAYS_MINUTES.length - 1)] ?? 240;
  // Up to 10% jitter so a recovering server is not hit by every queued mail at once.
  const delayMs = Math.round(delayMinutes * 60_000 * (1 + Math.random() * 0.1));
  await db
    .updateTable('outbox')
    .set({
      status,
      attempts,
      last_error: failure.reason.slice(0, 500),
      next_attempt_at: isGivingUp ? row.next_attempt_at : Math.min(now + delayMs, row.created_at + GIVE_UP_AFTER_MS),
      lease_until: null,
      lease_owner: null,
      ...(isGivingUp ? { payload: null } : {}),
    })
    .where('id', '=', row.id)
    .where('lease_owner', '=', owner)
    .execute();
  return status;
}
