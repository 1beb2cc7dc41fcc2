import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import { runTransaction } from '../store/run-transaction';
import type { TDb } from '../store/db';
import { clearSmimeSignerCache } from './load-tenant-signer';

export type RemoveSmimeCertificateOptions = {
  db: TDb;
  tenantId: string;
  kind: 'signing' | 'recipient' | 'ca';
  // An address (every certificate of that kind for it) or a SHA-256 fingerprint.
  which: string;
  actor: string;
  now?: number;
};

export async function removeSmimeCertificate({ db, tenantId, kind, which, actor, now = Date.now() }: RemoveSmimeCertificateOptions) {
  const key = which.toLowerCase().replace(/:/g, '');
  const removed = await runTransaction({
    db,
    work: async (trx) => {
      const rows = await trx
        .selectFrom('smime_certificates')
        .select(['id', 'address', 'fingerprint'])
        .where('tenant_id', '=', tenantId)
        .where('kind', '=', kind)
        .where((eb) => eb.or([eb('address', '=', which.toLowerCase()), eb('fingerprint', '=', key)]))
        .execute();
      if (!rows.length) throw new AppError('NOT_FOUND', `No ${kind} certificate for ${which}`);
      await trx
        .deleteFrom('smime_certificates')
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
      for (const r of rows)
        await recordAudit(trx, {
          tenantId,
          type: 'smime_certificate_removed',
          actor,
          data: { kind, address: r.address, fingerprint: r.fingerprint },
          at: now,
        });
      return rows;
    },
  });
  clearSmimeSignerCache(tenantId);
  return { removed: removed.map((r) => ({ address: r.address, fingerprint: r.fingerprint })) };
}
