import 'server-only';
import type { TConfig } from '../env';
import { isLocalRequest } from './client-address';

export type IsMailboxAllowedOptions = { config: TConfig; headers: Headers };

// The local mailbox lists every passcode and link Sealpost "sent": only while the embedded default
// is in force (no SMTP_URL; the localhost base domain or SEALPOST_MAILBOX=on), and only for a
// request from this machine that no proxy relayed. Checked by proxy.ts and again by every page.
export const isMailboxAllowed = ({ config, headers }: IsMailboxAllowedOptions): boolean => config.isMailboxOn && isLocalRequest(headers);
