import crypto from 'node:crypto';
import { recordAudit } from '../audit/record-audit';
import { AppError } from '../errors';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import type { TConnectorTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';
import { DEFAULT_CONNECTOR_DOMAIN, ZConnectorInput } from './connector-schema';
import { toConnectorView, type TConnectorView } from './list-connectors';

export type AddConnectorOptions = { db: TDb; tenant: TTenant; input: unknown; actor?: string; now?: number };

export type ParseConnectorInputOptions = { tenant: Pick<TTenant, 'mail_domain'>; input: unknown };

// Hostile input is refused here, where it enters, with the field named (the console's form shows
// the same reasons beside what was typed).
export function parseConnectorInput({ tenant, input }: ParseConnectorInputOptions) {
  const parsed = ZConnectorInput.safeParse(input);
  if (!parsed.success)
    throw new AppError(
      'BAD_REQUEST',
      `Invalid connector: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`,
    );
  const c = parsed.data;
  const ownDomain = tenant.mail_domain.toLowerCase();
  // Decrypted replies go only to the organisation's own mail server, never to a partner's.
  if (c.internal && !(c.domain === ownDomain || c.domain.endsWith(`.${ownDomain}`))) {
    throw new AppError(
      'BAD_REQUEST',
      `Invalid connector: internal: only a connector for ${ownDomain} (the tenant's own mail domain) may carry decrypted replies`,
    );
  }
  return c;
}

export async function addConnector({ db, tenant, input, actor = 'cli', now = Date.now() }: AddConnectorOptions): Promise<TConnectorView> {
  const c = parseConnectorInput({ tenant, input });
  return runTransaction({
    db,
    work: async (trx) => {
      const existing = await trx
        .selectFrom('connectors')
        .select('id')
        .where('tenant_id', '=', tenant.id)
        .where('domain', '=', c.domain)
        .executeTakeFirst();
      if (existing)
        throw new AppError(
          'CONFLICT',
          `Tenant ${tenant.slug} already has a connector for ${c.domain === DEFAULT_CONNECTOR_DOMAIN ? "'*'" : c.domain}; remove it first`,
        );
      const row: TConnectorTable = {
        id: crypto.randomUUID(),
        tenant_id: tenant.id,
        domain: c.domain,
        host: c.host?.host ?? null,
        port: c.host?.port ?? null,
        tls: c.tls,
        tls_name: c.tlsName ?? null,
        internal: c.internal ? 1 : 0,
        created_at: now,
      };
      await trx.insertInto('connectors').values(row).execute();
      const view = toConnectorView(row);
      await recordAudit(trx, {
        tenantId: tenant.id,
        type: 'connector_added',
        actor,
        data: { domain: c.domain, before: null, after: JSON.stringify(view) },
        at: now,
      });
      return view;
    },
  });
}
