import crypto from 'node:crypto';
import { recordAudit } from '../audit/record-audit';
import { getTenantKey } from '../envelope/tenant-keys';
import { AppError } from '../errors';
import type { TContext } from '../server/context';
import { runTransaction } from '../store/run-transaction';
import type { TSmimeCertificateTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';
import { checkCertificate } from './check-certificate';
import { clearSmimeSignerCache } from './load-tenant-signer';
import { readPkcs12 } from './read-pkcs12';
import { checkPssRestrictions, importSigningKey, type TSignatureScheme } from './signer-key';
import { loadTrustAnchors, packChain, sealSmimeKey, toSmimeCertificateView } from './smime-store';

export type ImportSigningCertificateOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenant: TTenant;
  p12: Uint8Array;
  password: string;
  actor: string;
  checkCrl?: boolean;
  // RSA keys only: PKCS#1 v1.5 by default (every S/MIME client verifies it), or RSASSA-PSS. An
  // RSA-PSS key (id-RSASSA-PSS) always signs with PSS.
  signatureScheme?: TSignatureScheme;
  now?: number;
};

// The tenant's S/MIME signing certificate from a PKCS#12 file: checked (dates, usage, a chain to
// the trust store, revocation), for an address in the tenant's mail domain, its private key sealed
// under the tenant key. A newer import for the same address replaces the older one.
export async function importSigningCertificate({
  ctx,
  tenant,
  p12,
  password,
  actor,
  checkCrl,
  signatureScheme = 'pkcs1',
  now = Date.now(),
}: ImportSigningCertificateOptions) {
  const contents = await readPkcs12({ p12, password });
  const keyType = crypto.createPrivateKey(contents.pkcs8Pem).asymmetricKeyType;
  if (signatureScheme === 'pss' && keyType !== 'rsa' && keyType !== 'rsa-pss')
    throw new AppError('BAD_REQUEST', `RSASSA-PSS signs with an RSA key; this one is ${keyType}: leave --signature out`);
  const isPss = signatureScheme === 'pss' || keyType === 'rsa-pss';
  // The key must sign as it will at delivery: a key WebCrypto refuses is refused here, by name.
  await importSigningKey({ pkcs8Pem: contents.pkcs8Pem, scheme: isPss ? 'pss' : 'pkcs1' });
  const publicKey = crypto.createPublicKey(contents.pkcs8Pem).export({ type: 'spki', format: 'der' });
  const leafIndex = contents.certificates.findIndex((der) =>
    new crypto.X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }).equals(publicKey),
  );
  if (leafIndex < 0) throw new AppError('UNPROCESSABLE', 'The PKCS#12 file holds no certificate for its private key');
  const leaf = contents.certificates[leafIndex]!;
  if (isPss) checkPssRestrictions(leaf);
  const chain = contents.certificates.filter((_, i) => i !== leafIndex);
  const trustAnchors = await loadTrustAnchors({ db: ctx.db, tenantId: tenant.id });
  const checked = await checkCertificate({ der: leaf, chain, purpose: 'sign', trustAnchors, now, checkCrl });
  const own = tenant.mail_domain.toLowerCase();
  const address = checked.addresses.find((a) => a.endsWith(`@${own}`) || a.endsWith(`.${own}`));
  if (!address)
    throw new AppError(
      'UNPROCESSABLE',
      `The certificate is for ${checked.addresses.join(', ') || 'no email address'}, not an address at ${own}: wrong address`,
    );
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const id = crypto.randomUUID();
  const row: TSmimeCertificateTable = {
    id,
    tenant_id: tenant.id,
    kind: 'signing',
    address,
    fingerprint: checked.fingerprint,
    certificate: Buffer.from(leaf),
    chain: packChain(chain),
    private_key: sealSmimeKey({ tenantKey: tenantKey.key, tenantId: tenant.id, id, pkcs8Pem: contents.pkcs8Pem }),
    key_version: tenantKey.version,
    source: 'admin',
    not_after: checked.notAfter,
    created_at: now,
    capabilities: null,
    signature_scheme: isPss ? 'pss' : null,
  };
  await runTransaction({
    db: ctx.db,
    work: async (trx) => {
      await trx
        .deleteFrom('smime_certificates')
        .where('tenant_id', '=', tenant.id)
        .where('kind', '=', 'signing')
        .where('address', '=', address)
        .execute();
      await trx.insertInto('smime_certificates').values(row).execute();
      await recordAudit(trx, {
        tenantId: tenant.id,
        type: 'smime_certificate_added',
        actor,
        data: {
          kind: 'signing',
          address,
          fingerprint: row.fingerprint,
          signature: isPss ? 'rsa-pss' : keyType === 'ec' ? 'ecdsa' : 'rsa-pkcs1',
        },
        at: now,
      });
    },
  });
  clearSmimeSignerCache(tenant.id);
  return { ...toSmimeCertificateView(row), notes: checked.notes };
}
