import type { TDb } from '../store/db';
import { toSmimeCertificateView } from './smime-store';

export type ListSmimeCertificatesOptions = { db: TDb; tenantId: string; kind?: 'signing' | 'recipient' | 'ca' };

export async function listSmimeCertificates({ db, tenantId, kind }: ListSmimeCertificatesOptions) {
  let query = db.selectFrom('smime_certificates').selectAll().where('tenant_id', '=', tenantId);
  if (kind) query = query.where('kind', '=', kind);
  const rows = await query.orderBy('kind').orderBy('address').orderBy('created_at').execute();
  return rows.map(toSmimeCertificateView);
}
