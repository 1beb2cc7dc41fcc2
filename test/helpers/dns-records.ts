import type { TDkimKeyTable } from '@/lib/store/schema';
import { dkimRecordName, dkimRecordValue } from '@/lib/dkim/dkim-keys';

export type TDnsZone = Map<string, string[]>;

// The records an operator publishes for a tenant domain (README): SPF allowing the sending
// address, DMARC at reject, one DKIM TXT per selector.
export function tenantZone({ domain, keys, ip = '127.0.0.1' }: { domain: string; keys: TDkimKeyTable[]; ip?: string }): TDnsZone {
  const zone: TDnsZone = new Map();
  zone.set(domain, [`v=spf1 ip4:${ip} -all`]);
  zone.set(`_dmarc.${domain}`, ['v=DMARC1; p=reject; adkim=r; aspf=r']);
  for (const key of keys) zone.set(dkimRecordName(key), [dkimRecordValue(key)]);
  return zone;
}

// A resolver in the shape node:dns and mailauth use, answering TXT from the zone (split into
// 255-octet strings as DNS carries them) and "no such name" for everything else.
export const zoneResolver =
  (zone: TDnsZone) =>
  async (name: string, rrtype: string): Promise<string[][]> => {
    const values = rrtype.toUpperCase() === 'TXT' ? zone.get(name.toLowerCase().replace(/\.$/, '')) : undefined;
    if (!values) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return values.map((v) => v.match(/.{1,255}/g) ?? ['']);
  };
