import dns from 'node:dns/promises';
import type { TContext } from '../server/context';
import type { TTenant } from '../tenants/tenants';
import { dkimRecordName } from './dkim-keys';

// (name, 'TXT') → each record's character-strings, as node:dns resolveTxt answers (and mailauth's resolver option).
export type TTxtResolver = (name: string, rrtype: 'TXT') => Promise<string[][]>;

export const systemTxtResolver: TTxtResolver = (name) => dns.resolveTxt(name);

export type TDkimCheck = {
  domain: string;
  selector: string;
  name: string;
  state: 'signing' | 'retired';
  // ok: a DKIM1 record with this key; missing: no such name or no DKIM1 record; mismatch: a
  // record with another key (or revoked, p= empty); error: the lookup failed (SERVFAIL, timeout).
  result: 'ok' | 'missing' | 'mismatch' | 'error';
  detail?: string;
};

export type CheckDkimRecordsOptions = { ctx: Pick<TContext, 'db'>; tenant: TTenant; resolver?: TTxtResolver };

// Looks up each of the tenant's selectors and compares the published key with ours.
export async function checkDkimRecords({ ctx, tenant, resolver = systemTxtResolver }: CheckDkimRecordsOptions): Promise<TDkimCheck[]> {
  const rows = await ctx.db
    .selectFrom('dkim_keys')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .orderBy('domain')
    .orderBy('created_at', 'desc')
    .execute();
  return Promise.all(
    rows.map(async (row): Promise<TDkimCheck> => {
      const base = {
        domain: row.domain,
        selector: row.selector,
        name: dkimRecordName(row),
        state: row.retired_at === null ? ('signing' as const) : ('retired' as const),
      };
      let records: string[][];
      try {
        records = await resolver(base.name, 'TXT');
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ENOTFOUND' || code === 'ENODATA') return { ...base, result: 'missing' };
        return { ...base, result: 'error', detail: code ?? 'lookup failed' };
      }
      const tags = records.map((chunks) => parseTags(chunks.join(''))).filter((t) => t.get('v') === 'DKIM1' || (!t.has('v') && t.has('p')));
      if (!tags.length) return { ...base, result: 'missing' };
      const kind = row.algorithm === 'ed25519' ? 'ed25519' : 'rsa';
      const isMatch = tags.some((t) => (t.get('k') ?? 'rsa') === kind && t.get('p') === row.public_key);
      return isMatch
        ? { ...base, result: 'ok' }
        : { ...base, result: 'mismatch', detail: `published: p=${abbreviate(tags[0]?.get('p') ?? '')}` };
    }),
  );
}

// tag=value; pairs (RFC 6376 §3.2), whitespace inside values removed (p= may be folded).
function parseTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

const abbreviate = (p: string) => (p.length > 24 ? `${p.slice(0, 12)}…${p.slice(-8)}` : p || '(empty: revoked)');
