import crypto from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import type { TTenant } from '../tenants/tenants';

// An address range written as CIDR (a bare address is its own /32 or /128), normalised so one
// range has one spelling. IPv4-mapped IPv6 is stored as IPv4: the same host either way.
export function parseRelayCidr(input: string): string {
  const text = input.trim();
  try {
    const [address, bits] = text.includes('/')
      ? ipaddr.parseCIDR(text)
      : (() => {
          const a = ipaddr.parse(text);
          return [a, a.kind() === 'ipv4' ? 32 : 128] as const;
        })();
    const base =
      address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
    const prefix = base.kind() === address.kind() ? bits : bits - 96;
    if (prefix < 0) throw new Error('prefix');
    // The network address, not the host the operator happened to type.
    const bytes = base.toByteArray().map((b, i) => {
      const keep = Math.max(0, Math.min(8, prefix - i * 8));
      return b & (0xff << (8 - keep)) & 0xff;
    });
    const network = ipaddr.fromByteArray(bytes);
    return `${network.toString()}/${prefix}`;
  } catch {
    throw new AppError('BAD_REQUEST', `not an IP address or CIDR range: ${JSON.stringify(text.slice(0, 60))}`);
  }
}

const toAddress = (ip: string) => {
  const a = ipaddr.parse(ip);
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;
};

export async function addRelayAllow({ db, tenant, cidr, now = Date.now() }: { db: TDb; tenant: TTenant; cidr: string; now?: number }) {
  const range = parseRelayCidr(cidr);
  const exists = await db
    .selectFrom('relay_allow')
    .select('id')
    .where('tenant_id', '=', tenant.id)
    .where('cidr', '=', range)
    .executeTakeFirst();
  if (!exists)
    await db.insertInto('relay_allow').values({ id: crypto.randomUUID(), tenant_id: tenant.id, cidr: range, created_at: now }).execute();
  return { tenant: tenant.slug, cidr: range };
}

export async function listRelayAllow({ db, tenant }: { db: TDb; tenant: TTenant }) {
  return (await db.selectFrom('relay_allow').select('cidr').where('tenant_id', '=', tenant.id).orderBy('cidr').execute()).map(
    (r) => r.cidr,
  );
}

export async function removeRelayAllow({ db, tenant, cidr }: { db: TDb; tenant: TTenant; cidr: string }) {
  const range = parseRelayCidr(cidr);
  const r = await db.deleteFrom('relay_allow').where('tenant_id', '=', tenant.id).where('cidr', '=', range).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw new AppError('NOT_FOUND', `${range} is not on the relay allow-list of ${tenant.slug}`);
  return { tenant: tenant.slug, cidr: range, removed: true };
}

// The tenants whose allow-list holds this source address (the sender's domain then picks one).
export async function findAllowedTenantIds({ db, ip }: { db: TDb; ip: string }): Promise<string[]> {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = toAddress(ip);
  } catch {
    return [];
  }
  const rows = await db.selectFrom('relay_allow').select(['tenant_id', 'cidr']).execute();
  const ids = new Set<string>();
  for (const row of rows) {
    const [base, bits] = ipaddr.parseCIDR(row.cidr);
    if (base.kind() === address.kind() && (address.match as (range: [typeof base, number]) => boolean)([base, bits]))
      ids.add(row.tenant_id);
  }
  return [...ids];
}
