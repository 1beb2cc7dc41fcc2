// Who is asking, as scripts/server.mjs worked it out from the TCP connection (and the operator's
// SEALPOST_TRUSTED_PROXIES): never a client's own X-Forwarded-For. proxy.ts keeps these headers
// only when they carry that server's per-process mark, so they cannot be sent from outside.
export const CLIENT_HEADER = 'x-sealpost-client';
export const LOCAL_HEADER = 'x-sealpost-local';
const MARK_HEADER = 'x-sealpost-peer-mark';
const PEER_HEADERS = [CLIENT_HEADER, LOCAL_HEADER];

const serverMark = (): string | undefined => (globalThis as Record<symbol, string | undefined>)[Symbol.for('sealpost.peerMark')];

// In proxy.ts, on the headers passed on to the app: the mark goes, and the peer headers go too
// unless the mark was this process's own.
export function keepOnlyServerPeerHeaders(headers: Headers): void {
  const mark = serverMark();
  const isFromServer = mark !== undefined && headers.get(MARK_HEADER) === mark;
  headers.delete(MARK_HEADER);
  if (!isFromServer) for (const name of PEER_HEADERS) headers.delete(name);
}

// The address per-IP limits count. 'unknown' (one shared bucket) when the app was started
// without scripts/server.mjs, e.g. a bare `next start`.
export const clientIp = (headers: Headers): string => headers.get(CLIENT_HEADER) || 'unknown';

// A request from this machine itself, not relayed by any proxy: what the local mailbox requires.
export const isLocalRequest = (headers: Headers): boolean => headers.get(LOCAL_HEADER) === '1';
