import crypto from 'node:crypto';
import { getTenantKey } from '../envelope/tenant-keys';
import { AppError } from '../errors';
import type { TContext } from '../server/context';
import { runTransaction } from '../store/run-transaction';
import type { TDkimKeyTable } from '../store/schema';
import { ZMailDomain, type TTenant } from '../tenants/tenants';
import { clearDkimSignerCache } from './sign-composed-mail';
import { sealDkimKey, type TDkimAlgorithm, toDkimKeyView, ZDkimAlgorithm, ZDkimSelector } from './dkim-keys';

export type CreateDkimKeyOptions = {
  ctx: Pick<TContext, 'db' | 'master'>;
  tenant: TTenant;
  domain?: string;
  selector?: string;
  algorithm?: string;
  // Rotation: the domain's signing key of this algorithm is retired in the same transaction.
  isRotation?: boolean;
  now?: number;
};

// A new DKIM key for one of the tenant's domains (its mail domain or a subdomain: the signature
// must align with the From domain for DMARC). The private key is sealed under the tenant key.
export async function createDkimKey({
  ctx,
  tenant,
  domain,
  selector,
  algorithm = 'rsa-2048',
  isRotation = false,
  now = Date.now(),
}: CreateDkimKeyOptions) {
  const alg = ZDkimAlgorithm.safeParse(algorithm);
  if (!alg.success) throw new AppError('BAD_REQUEST', `Invalid algorithm "${algorithm}": use rsa-2048 or ed25519`);
  const d = ZMailDomain.safeParse(domain ?? tenant.mail_domain);
  if (!d.success) throw new AppError('BAD_REQUEST', `Invalid domain "${domain}": ${d.error.issues[0]?.message}`);
  const own = tenant.mail_domain.toLowerCase();
  if (d.data !== own && !d.data.endsWith(`.${own}`))
    throw new AppError('BAD_REQUEST', `The domain ${d.data} is not ${own} or one of its subdomains`);
  const s = ZDkimSelector.safeParse(selector ?? defaultSelector(alg.data, now));
  if (!s.success) throw new AppError('BAD_REQUEST', `Invalid selector "${selector}": ${s.error.issues[0]?.message}`);
  const { publicKey, privateKeyPem } = generateDkimKeyPair(alg.data);
  const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id });
  const id = crypto.randomUUID();
  const row: TDkimKeyTable = {
    id,
    tenant_id: tenant.id,
    domain: d.data,
    selector: s.data,
    algorithm: alg.data,
    public_key: publicKey,
    private_key: sealDkimKey({ tenantKey: tenantKey.key, tenantId: tenant.id, keyId: id, privateKeyPem }),
    key_version: tenantKey.version,
    created_at: now,
    retired_at: null,
  };
  await runTransaction({
    db: ctx.db,
    work: async (trx) => {
      const taken = await trx
        .selectFrom('dkim_keys')
        .select('tenant_id')
        .where('domain', '=', row.domain)
        .where('selector', '=', row.selector)
        .executeTakeFirst();
      if (taken) throw new AppError('CONFLICT', `The selector ${row.selector} is already used for ${row.domain}`);
      const current = trx
        .selectFrom('dkim_keys')
        .select('id')
        .where('tenant_id', '=', tenant.id)
        .where('domain', '=', row.domain)
        .where('algorithm', '=', row.algorithm)
        .where('retired_at', 'is', null);
      if (isRotation) {
        await trx.updateTable('dkim_keys').set({ retired_at: now }).where('id', 'in', current).execute();
      } else if (await current.executeTakeFirst()) {
        throw new AppError(
          'CONFLICT',
          `${row.domain} already has a signing ${row.algorithm} key: use \`sealpost dkim rotate\` to replace it`,
        );
      }
      await trx.insertInto('dkim_keys').values(row).execute();
    },
  });
  clearDkimSignerCache(tenant.id);
  return toDkimKeyView(row);
}

const defaultSelector = (algorithm: TDkimAlgorithm, now: number) =>
  `sp${new Date(now).toISOString().slice(0, 7).replace('-', '')}-${algorithm === 'ed25519' ? 'ed' : 'rsa'}-${crypto.randomBytes(2).toString('hex')}`;

// The p= value: base64 of the SubjectPublicKeyInfo for RSA, of the raw 32-byte key for Ed25519.
function generateDkimKeyPair(algorithm: TDkimAlgorithm): { publicKey: string; privateKeyPem: string } {
  const pair = algorithm === 'ed25519' ? crypto.generateKeyPairSync('ed25519') : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  return {
    publicKey: (algorithm === 'ed25519' ? spki.subarray(spki.length - 32) : spki).toString('base64'),
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
