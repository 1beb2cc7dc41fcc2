import { domainToASCII } from 'node:url';

// Strict on purpose: an address must be a plain dot-atom at a public-looking host name. Quoted
// local parts, comments, address literals and control characters are legal in RFC 5322 but are
// how header-injection and misdelivery bugs start, and no recipient of ours needs them.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

// The canonical form stored and compared everywhere: lower case, domain in ASCII (punycode).
// Returns null for anything that is not a deliverable mailbox address by those rules.
export function normaliseAddress(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 320) return null;
  const at = input.lastIndexOf('@');
  if (at < 1) return null;
  const local = input.slice(0, at);
  const rawDomain = input.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local)) return null;
  if (!rawDomain || /[\s\u0000-\u001f\u007f\\[\]@]/.test(rawDomain) || rawDomain.endsWith('.')) return null;
  const domain = (/^[\x21-\x7e]+$/.test(rawDomain) ? rawDomain : domainToASCII(rawDomain)).toLowerCase();
  if (!domain || domain.length > 253 || !DOMAIN.test(domain)) return null;
  const address = `${local.toLowerCase()}@${domain}`;
  return address.length <= 254 ? address : null;
}

export const isValidAddress = (input: unknown): boolean => normaliseAddress(input) !== null;

export const addressDomain = (address: string): string => address.slice(address.lastIndexOf('@') + 1);
