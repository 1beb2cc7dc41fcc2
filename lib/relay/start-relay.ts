import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import { isAppError, logUnknownError } from '../errors';
import { addressDomain, normaliseAddress } from '../mail/address';
import { logger } from '../logger';
import { getMetrics } from '../metrics/metrics';
import { consumeRateLimit, isRateLimited } from '../rate-limit/rate-limits';
import type { TContext } from '../server/context';
import { getTenantById, type TTenant } from '../tenants/tenants';
import { acceptInboundMessage } from './inbound-message';
import { findInboundTarget, hasAnyInboundRoute, type TInboundTarget } from './inbound-route';
import { readDataStream } from './read-data-stream';
import { findAllowedTenantIds } from './relay-allow';
import { authenticateRelayCredential } from './relay-credentials';
import { relayMessage, smtpText } from './relay-message';
import { loadRelayTls } from './relay-tls';

export type StartRelayOptions = {
  ctx: TContext;
  port: number;
  host: string;
  // Whether a client on a loopback address may AUTH before STARTTLS (a mail server on this
  // machine: nothing crosses a network). A test turns it off to play a remote client.
  isLoopbackTrusted?: boolean;
  maxConnectionsPerIp?: number;
  idleTimeoutMs?: number;
  dataTimeoutMs?: number;
  // How long a stop waits for DATA in flight before closing every connection.
  closeTimeoutMs?: number;
};

export type TRelay = { port: number; stop(): Promise<void> };

type TSessionUser = { tenantId: string; credentialId: string };

// One transaction from outside for a tenant's inbound route: the tenant is fixed by the first
// recipient accepted (null until then).
type TInboundTransaction = { target: TInboundTarget | null };

// smtp-server's documented per-connection command list (its README: "decide per connection").
const withCommands = (session: SMTPServerSession) => session as SMTPServerSession & { disabledCommands?: string[] };
const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });
const isLoopback = (ip: string) => ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
const isInDomain = (address: string, domain: string) => {
  const d = addressDomain(address);
  return d === domain || d.endsWith(`.${domain}`);
};

// The SMTP relay: the organisation's mail server hands it outbound mail; each message is decided
// per recipient (encrypt, pass through, reject) and answered 250 only once it is committed.
export async function startRelay({
  ctx,
  port,
  host,
  isLoopbackTrusted = true,
  maxConnectionsPerIp = 20,
  idleTimeoutMs = 5 * 60_000,
  dataTimeoutMs = 10 * 60_000,
  closeTimeoutMs = 30_000,
}: StartRelayOptions): Promise<TRelay> {
  const { config } = ctx;
  const tls = loadRelayTls(config);
  const perIp = new Map<string, number>();
  const tenants = new Map<string, TTenant>();
  const inbound = new Map<string, TInboundTransaction>();
  const inFlight = new Set<Promise<void>>();

  const server: SMTPServer = new SMTPServer({
    name: config.SEALPOST_BASE_DOMAIN,
    banner: 'Sealpost relay',
    key: tls.key,
    cert: tls.cert,
    // smtp-server would accept TLS 1.0 otherwise (its default, for very old clients).
    minVersion: 'TLSv1.2',
    size: config.SEALPOST_MAX_MESSAGE_BYTES,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    // AUTH is neither offered nor accepted before STARTTLS (session.disabledCommands, set per
    // connection in onConnect and lifted in onSecure); a loopback client may skip TLS. onAuth
    // checks again.
    allowInsecureAuth: true,
    maxClients: config.SEALPOST_RELAY_MAX_CONNECTIONS,
    socketTimeout: idleTimeoutMs,
    closeTimeout: closeTimeoutMs,
    disabledCommands: [],
    hideDSN: true,
    logger: false,
    onConnect(session, callback) {
      const n = (perIp.get(session.remoteAddress) ?? 0) + 1;
      if (n > maxConnectionsPerIp) return callback(smtpError(421, '4.7.0 Too many connections from your address, try again later'));
      perIp.set(session.remoteAddress, n);
      (session as SMTPServerSession & { isCounted?: boolean }).isCounted = true;
      if (!(isLoopbackTrusted && isLoopback(session.remoteAddress))) withCommands(session).disabledCommands = ['AUTH'];
      callback();
    },
    onSecure(_socket, session, callback) {
      withCommands(session).disabledCommands = undefined;
      callback();
    },
    onClose(session) {
      if ((session as SMTPServerSession & { isCounted?: boolean }).isCounted) {
        const n = (perIp.get(session.remoteAddress) ?? 1) - 1;
        if (n <= 0) perIp.delete(session.remoteAddress);
        else perIp.set(session.remoteAddress, n);
      }
      tenants.delete(session.id);
      inbound.delete(session.id);
    },
    onAuth(auth: SMTPServerAuthentication, session, callback) {
      // Credentials never cross a network in clear text.
      if (!session.secure && !(isLoopbackTrusted && isLoopback(session.remoteAddress))) {
        return callback(smtpError(538, '5.7.11 Encryption required: issue STARTTLS first'));
      }
      const key = session.remoteAddress;
      const now = Date.now();
      void (async () => {
        // Password guessing: after a few failures from one address every attempt waits out the window.
        if (await isRateLimited(ctx.db, { name: 'relayAuthFailuresPerIp', key, now }))
          return callback(smtpError(454, '4.7.0 Too many failed authentications, try again later'));
        const user = await authenticateRelayCredential({
          db: ctx.db,
          username: String(auth.username ?? ''),
          password: String(auth.password ?? ''),
          now,
        });
        if (user) return callback(null, { user: user satisfies TSessionUser });
        await consumeRateLimit(ctx.db, { name: 'relayAuthFailuresPerIp', key, now }).catch(() => undefined);
        callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      })().catch((error) => {
        logUnknownError(error, { route: 'relay auth' });
        callback(smtpError(454, '4.7.0 Temporary authentication failure'));
      });
    },
    onMailFrom(address, session, callback) {
      tenants.delete(session.id);
      inbound.delete(session.id);
      void (async () => {
        const user = session.user as TSessionUser | undefined;
        // The null reverse-path (a bounce, RFC 5321 §4.5.5) comes only from outside.
        const sender = address.address === '' && !user ? '' : normaliseAddress(address.address);
        if (sender === null) return callback(smtpError(553, '5.1.7 The sender address is not valid'));
        let tenant: TTenant | undefined;
        if (user) {
          tenant = await getTenantById(ctx.db, user.tenantId);
          if (!tenant) return callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
          if (!isInDomain(sender, tenant.mail_domain))
            return callback(smtpError(553, `5.7.1 The sender ${sender} is not in ${tenant.mail_domain}`));
        } else {
          const ids = sender ? await findAllowedTenantIds({ db: ctx.db, ip: session.remoteAddress }) : [];
          for (const id of ids) {
            const t = await getTenantById(ctx.db, id);
            if (t && isInDomain(sender, t.mail_domain)) tenant = t;
          }
          if (!tenant) {
            // Not a tenant's own mail: from outside, taken only for a tenant with an inbound route
            // (its recipients decide which, at RCPT TO). Without any route, refused as always.
            if (!(await hasAnyInboundRoute(ctx.db))) {
              if (!sender) return callback(smtpError(553, '5.1.7 The sender address is not valid'));
              if (!ids.length) return callback(smtpError(530, '5.7.0 Authentication required'));
              return callback(smtpError(553, `5.7.1 The sender ${sender} is not in a mail domain this address may relay for`));
            }
            if (await isRateLimited(ctx.db, { name: 'relayInboundPerIp', key: session.remoteAddress, now: Date.now() }))
              return callback(smtpError(450, '4.7.1 Too much mail from your address this hour, try again later'));
            inbound.set(session.id, { target: null });
            return callback();
          }
        }
        tenants.set(session.id, tenant);
        callback();
      })().catch((error) => {
        logUnknownError(error, { route: 'relay mail from' });
        callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
      });
    },
    onRcptTo(address, session, callback) {
      const rcpt = normaliseAddress(address.address);
      if (!rcpt) return callback(smtpError(553, '5.1.3 The recipient address is not valid'));
      if (session.envelope.rcptTo.length >= config.SEALPOST_MAX_RECIPIENTS) return callback(smtpError(452, '4.5.3 Too many recipients'));
      const transaction = inbound.get(session.id);
      if (!transaction) return callback();
      void (async () => {
        const target = await findInboundTarget({ db: ctx.db, recipient: rcpt });
        // Never an open relay: from outside, only to a domain Sealpost receives for.
        if (!target) return callback(smtpError(550, `5.7.1 Relaying denied: ${rcpt} is not in a mail domain this relay receives for`));
        if (transaction.target && transaction.target.tenant.id !== target.tenant.id)
          return callback(
            smtpError(452, `4.5.3 ${rcpt} belongs to another organisation than the earlier recipients: send it in a separate transaction`),
          );
        const sender = session.envelope.mailFrom ? normaliseAddress(session.envelope.mailFrom.address) : null;
        // The tenant's own senders come authenticated or from their allowed addresses, not from outside.
        if (sender && isInDomain(sender, target.tenant.mail_domain))
          return callback(smtpError(550, `5.7.1 Mail from ${target.tenant.mail_domain} must be sent through the relay's authentication`));
        transaction.target = target;
        callback();
      })().catch((error) => {
        logUnknownError(error, { route: 'relay rcpt to' });
        callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
      });
    },
    onData(stream, session, callback) {
      // A client that trickles its DATA to hold a connection open is cut off.
      const timer = setTimeout(() => dropSession(session.id, '4.4.2 DATA took too long'), dataTimeoutMs);
      const work = handleData(stream, session)
        .then(([code, text]) => {
          getMetrics().relayMessages.inc({ result: code === 250 ? 'accepted' : code >= 500 ? 'refused' : 'deferred' });
          return code === 250 ? callback(null, text) : callback(smtpError(code, text));
        })
        .finally(() => {
          clearTimeout(timer);
          inFlight.delete(work);
        });
      inFlight.add(work);
    },
  });

  async function handleData(stream: NodeJS.ReadableStream, session: SMTPServerSession): Promise<[number, string]> {
    // The client went away (or was cut off by the DATA timeout) before the end of the data:
    // nothing is stored, and the answer goes nowhere.
    const data = await readDataStream({ stream: stream as never, maxBytes: config.SEALPOST_MAX_MESSAGE_BYTES }).catch(() => null);
    if (!data) return [421, '4.4.2 The connection closed before the end of the data'];
    if (data.kind === 'too-large') return [552, `5.3.4 The message is larger than the limit of ${config.SEALPOST_MAX_MESSAGE_BYTES} bytes`];
    if (data.kind === 'smuggling') return [550, '5.6.0 Bare CR or LF around a dot: refused (SMTP smuggling)'];
    const transaction = inbound.get(session.id);
    if (transaction) return handleInbound(session, transaction, data.raw);
    const tenant = tenants.get(session.id);
    if (!tenant) return [503, '5.5.1 MAIL FROM first'];
    const mailFrom = normaliseAddress(session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined)!;
    const rcptTo = [...new Set(session.envelope.rcptTo.map((r) => normaliseAddress(r.address)!))];
    try {
      const outcome = await relayMessage({ ctx, tenant, mailFrom, rcptTo, raw: data.raw, received: receivedField(session) });
      if (outcome.kind === 'refused') return [outcome.code, outcome.text];
      logger.info(
        { tenant: tenant.slug, session: session.id, encrypted: outcome.encrypted.length, passed: outcome.passed.length },
        'relay: message accepted',
      );
      return [250, `2.0.0 Ok: queued as ${session.id}`];
    } catch (error) {
      // The database failed: nothing was committed, so the sending server keeps it and retries.
      if (!isAppError(error)) logUnknownError(error, { route: 'relay data' });
      return [451, '4.3.0 Temporary failure, try again later'];
    }
  }

  async function handleInbound(session: SMTPServerSession, transaction: TInboundTransaction, raw: Buffer): Promise<[number, string]> {
    const target = transaction.target;
    if (!target) return [503, '5.5.1 RCPT TO first'];
    const mailFrom = session.envelope.mailFrom ? (normaliseAddress(session.envelope.mailFrom.address) ?? '') : '';
    const rcptTo = [...new Set(session.envelope.rcptTo.map((r) => normaliseAddress(r.address)!))];
    try {
      const outcome = await acceptInboundMessage({
        ctx,
        tenant: target.tenant,
        route: target.route,
        mailFrom,
        rcptTo,
        raw,
        received: receivedField(session),
        ip: session.remoteAddress,
      });
      if (outcome.kind === 'refused') return [outcome.code, outcome.text];
      logger.info(
        {
          tenant: target.tenant.slug,
          session: session.id,
          recipients: rcptTo.length,
          smime: outcome.smime.result,
          learned: outcome.smime.learned,
        },
        'relay: inbound message accepted',
      );
      return [250, `2.0.0 Ok: queued as ${session.id}`];
    } catch (error) {
      if (!isAppError(error)) logUnknownError(error, { route: 'relay inbound data' });
      return [451, '4.3.0 Temporary failure, try again later'];
    }
  }

  const receivedField = (session: SMTPServerSession) => {
    const proto = `ESMTP${session.secure ? 'S' : ''}${session.user ? 'A' : ''}`;
    const helo = smtpText(session.hostNameAppearsAs ?? 'unknown').replace(/[()[\]\\;]/g, '');
    return `Received: from ${helo} ([${session.remoteAddress}])\r\n\tby ${config.SEALPOST_BASE_DOMAIN} (Sealpost relay) with ${proto} id ${session.id};\r\n\t${new Date().toUTCString().replace('GMT', '+0000')}\r\n`;
  };

  // smtp-server has no public handle on one connection; its set of connections is the one way in.
  const dropSession = (id: string | null, text: string) => {
    for (const c of (
      server as unknown as { connections: Set<{ session?: { id: string }; send(code: number, text: string): void; close(): void }> }
    ).connections) {
      if (id === null || c.session?.id === id) {
        c.send(421, text);
        c.close();
      }
    }
  };

  // A failed TLS handshake or a reset socket is one client's problem, never the process's.
  server.on('error', (error) => logger.warn({ code: (error as { code?: string }).code }, 'relay: connection error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.server.address() as AddressInfo).port;
  logger.info({ host, port: actualPort, tls: tls.isSelfSigned ? 'self-signed' : 'configured' }, 'relay listening');
  return {
    port: actualPort,
    // Stops accepting; DATA in flight finishes and is answered, then every connection is closed.
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
      // Sessions between messages are told to come back later rather than held for closeTimeout.
      dropSession(null, '4.3.2 The relay is shutting down, try again later');
      await closed;
    },
  };
}
