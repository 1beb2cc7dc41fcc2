import crypto from 'node:crypto';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import { normaliseAddress } from '../mail/address';
import { runTransaction } from '../store/run-transaction';
import type { TDb } from '../store/db';
import type { TSmimeCertificateTable } from '../store/schema';
import { checkCertificate, parseX509 } from './check-certificate';
import { packCapabilities } from './smime-capabilities';
import { loadTrustAnchors, packChain, readCertificates, toSmimeCertificateView } from './smime-store';

export type AddSmimeCertificateOptions = {
  db: TDb;
  tenantId: string;
  kind: 'recipient' | 'ca';
  // PEM (the certificate first, then any intermediates) or one DER certificate.
  file: Buffer;
  address?: string;
  actor: string;
  source?: 'admin' | 'inbound';
  // The content-cipher OIDs the correspondent reads (SMIMECapabilities), when known.
  capabilities?: string[] | null;
  checkCrl?: boolean;
  now?: number;
};

// A correspondent's certificate, checked for encryption to its address (dates, key usage,
// emailProtection, the address, a chain to the trust store, revocation), or a CA the tenant trusts
// beside the system bundle.
export async function addSmimeCertificate({
  db,
  tenantId,
  kind,
  file,
  address,
  actor,
  source = 'admin',
  capabilities = null,
  checkCrl,
  now = Date.now(),
}: AddSmimeCertificateOptions) {
  const [leaf, ...chain] = readCertificates(file);
  if (!leaf) throw new AppError('BAD_REQUEST', 'The file holds no certificate');
  let row: TSmimeCertificateTable;
  let notes: string[] = [];
  if (kind === 'ca') {
    const ca = parseX509(leaf);
    if (!ca.ca) throw new AppError('UNPROCESSABLE', `The certificate for ${ca.subject.replace(/\n/g, ', ')} is not a CA certificate`);
    if (now > Date.parse(ca.validTo))
      throw new AppError('UNPROCESSABLE', `The CA certificate expired on ${new Date(ca.validTo).toISOString()}`);
    row = newRow({
      tenantId,
      kind,
      address: null,
      der: leaf,
      chain: [],
      fingerprint: ca.fingerprint256,
      notAfter: Date.parse(ca.validTo),
      source,
      now,
    });
  } else {
    const wanted = address === undefined ? undefined : normaliseAddress(address);
    if (wanted === null) throw new AppError('BAD_REQUEST', `Invalid address "${address}"`);
    const trustAnchors = await loadTrustAnchors({ db, tenantId });
    const checked = await checkCertificate({ der: leaf, chain, address: wanted, purpose: 'encrypt', trustAnchors, now, checkCrl });
    if (!wanted && checked.addresses.length !== 1)
      throw new AppError('BAD_REQUEST', `The certificate names ${checked.addresses.length} addresses: say which one with --address`);
    notes = checked.notes;
    const at = wanted ?? checked.addresses[0]!;
    row = newRow({
      tenantId,
      kind,
      address: at,
      der: leaf,
      chain,
      fingerprint: checked.fingerprint,
      notAfter: checked.notAfter,
      source,
      capabilities,
      now,
    });
  }
  await runTransaction({
    db,
    work: async (trx) => {
      await trx
        .deleteFrom('smime_certificates')
        .where('tenant_id', '=', tenantId)
        .where('kind', '=', kind)
        .where('fingerprint', '=', row.fingerprint)
        .execute();
      await trx.insertInto('smime_certificates').values(row).execute();
      await recordAudit(trx, {
        tenantId,
        type: 'smime_certificate_added',
        actor,
        data: { kind, address: row.address, fingerprint: row.fingerprint, capabilities: row.capabilities, source: row.source },
        at: now,
      });
    },
  });
  return { ...toSmimeCertificateView(row), notes };
}

type NewRowOptions = {
  tenantId: string;
  kind: 'recipient' | 'ca';
  address: string | null;
  der: Uint8Array;
  chain: Uint8Array[];
  fingerprint: string;
  notAfter: number;
  source: 'admin' | 'inbound';
  capabilities?: string[] | null;
  now: number;
};

const newRow = (o: NewRowOptions): TSmimeCertificateTable => ({
  id: crypto.randomUUID(),
  tenant_id: o.tenantId,
  kind: o.kind,
  address: o.address,
  fingerprint: o.fingerprint.replace(/:/g, '').toLowerCase(),
  certificate: Buffer.from(o.der),
  chain: o.chain.length ? packChain(o.chain) : null,
  private_key: null,
  key_version: null,
  source: o.source,
  not_after: o.notAfter,
  created_at: o.now,
  capabilities: packCapabilities(o.capabilities),
  signature_scheme: null,
});
