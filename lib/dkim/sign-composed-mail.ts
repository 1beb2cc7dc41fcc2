import { getTenantKey } from '../envelope/tenant-keys';
import { logger } from '../logger';
import { openMailSource, prependToMail, readMailHead, type TMailSource } from '../mail/mail-source';
import type { TContext } from '../server/context';
import { openDkimKey } from './dkim-keys';

// The fields RFC 6376 §5.4.1 recommends signing, and the ones our mail relies on (Message-ID,
// the MIME structure, Auto-Submitted so nobody can strip it and provoke auto-replies).
export const DKIM_SIGNED_HEADERS = [
  'From',
  'Reply-To',
  'Subject',
  'Date',
  'To',
  'Cc',
  'Message-ID',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'Auto-Submitted',
  'List-Id',
  'List-Unsubscribe',
];

type TSigner = { domain: string; selector: string; privateKey: string };
type TCachedSigners = { until: number; signers: TSigner[] };

// Unsealed keys live a minute per process: the database and the tenant key are not asked for
// every mail, and a rotation (or a removal) reaches every worker within that minute.
const SIGNER_TTL_MS = 60_000;
const cache = new Map<string, TCachedSigners>();

export const clearDkimSignerCache = (tenantId?: string) => {
  if (tenantId) cache.delete(tenantId);
  else cache.clear();
};

async function loadSigners(ctx: Pick<TContext, 'db' | 'master'>, tenantId: string, now: number): Promise<TSigner[]> {
  const hit = cache.get(tenantId);
  if (hit && hit.until > now) return hit.signers;
  const rows = await ctx.db.selectFrom('dkim_keys').selectAll().where('tenant_id', '=', tenantId).where('retired_at', 'is', null).execute();
  const signers: TSigner[] = [];
  for (const row of rows) {
    const tenantKey = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId, version: row.key_version });
    signers.push({ domain: row.domain, selector: row.selector, privateKey: openDkimKey({ tenantKey: tenantKey.key, row }) });
  }
  cache.set(tenantId, { until: now + SIGNER_TTL_MS, signers });
  return signers;
}

// The domain of the From field of a mail we composed (MailComposer writes it on one line or folded).
async function fromDomain(source: TMailSource): Promise<string | null> {
  const head = (await readMailHead({ source })).toString('utf8').replace(/\r\n[ \t]+/g, ' ');
  const from = /^from:(.*)$/im.exec(head)?.[1];
  const match = from ? /@([A-Za-z0-9.-]+)\s*>?\s*$/.exec(from.trim()) : null;
  return match?.[1]?.toLowerCase() ?? null;
}

// Fields named once more in h= than the mail has them (RFC 6376 §8.15): nobody can add a second
// From, Subject or Date after signing without breaking the signature.
const OVERSIGNED = new Set(['from', 'subject', 'date']);

// mailauth's signer with oversigning, which mailauth 7.1 has no option for. It hashes each signed
// field's `line` and writes h= from each field's `casedKey`; a casedKey of "From:From" therefore
// names From twice in h= while hashing it once — what a verifier computes too, since a name with
// no field left for it hashes as nothing. (Not hand-written canonicalisation: mailauth still
// does all of it.) Loaded on the first signature: processes that never sign never load it.
async function signOversigning(source: TMailSource, options: Record<string, unknown>) {
  const [{ DkimSigner }, { writeToStream }] = await Promise.all([import('mailauth/lib/dkim/dkim-signer'), import('mailauth/lib/tools')]);
  class OversigningSigner extends DkimSigner {
    getFieldNames(signatureData: unknown): string {
      for (const field of this.headers?.parsed ?? []) {
        if (OVERSIGNED.has(field.key) && !field.casedKey.includes(':')) field.casedKey = `${field.casedKey}:${field.casedKey}`;
      }
      return super.getFieldNames(signatureData);
    }
  }
  const signer = new OversigningSigner(options);
  // A composed mail is read through once here, a slice at a time, for its body hash.
  await writeToStream(signer, openMailSource(source));
  return { signatures: signer.signatureHeaders.length ? `${signer.signatureHeaders.join('\r\n')}\r\n` : '', errors: signer.errors };
}

export type SignComposedMailOptions = { ctx: Pick<TContext, 'db' | 'master'>; tenantId: string; raw: TMailSource; now?: number };

// DKIM-signs a mail Sealpost wrote, with every signing key (RSA and Ed25519 both: dual signing)
// of the tenant domain that the From address is in; relaxed/relaxed. Mail of a tenant without
// a key, or from a domain it has none for, goes out as it is. A mail built in memory comes back
// as one Buffer; a composed one as the same mail composed anew behind its signatures.
export async function signComposedMail({ ctx, tenantId, raw, now = Date.now() }: SignComposedMailOptions): Promise<TMailSource> {
  const signers = await loadSigners(ctx, tenantId, now);
  if (!signers.length) return raw;
  const domain = await fromDomain(raw);
  if (!domain) return raw;
  // The closest domain wins: a key for news.acme.example signs its mail, acme.example's the rest.
  const aligned = signers.filter((s) => domain === s.domain || domain.endsWith(`.${s.domain}`));
  const longest = Math.max(0, ...aligned.map((s) => s.domain.length));
  const chosen = aligned.filter((s) => s.domain.length === longest);
  if (!chosen.length) return raw;
  const result = await signOversigning(raw, {
    canonicalization: 'relaxed/relaxed',
    headerList: DKIM_SIGNED_HEADERS,
    signTime: new Date(now),
    signatureData: chosen.map((s) => ({ signingDomain: s.domain, selector: s.selector, privateKey: s.privateKey })),
  });
  if (result.errors?.length) {
    // A key that cannot sign must not hold mail back: unsigned mail still arrives, and the log says why.
    logger.error(
      { tenantId, errors: result.errors.map((e) => ({ selector: e.selector, code: (e.err as { code?: string })?.code })) },
      'DKIM signing failed',
    );
  }
  if (!result.signatures) return raw;
  const signatures = Buffer.from(result.signatures);
  return Buffer.isBuffer(raw) ? Buffer.concat([signatures, raw]) : prependToMail(raw, signatures);
}
