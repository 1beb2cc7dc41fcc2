import { sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/record-audit';
import { CONNECTOR_TLS_POLICIES, ZConnectorHost, ZTlsName } from '../connectors/connector-schema';
import { formatConnectorHost } from '../connectors/list-connectors';
import { AppError } from '../errors';
import { addressDomain } from '../mail/address';
import type { TDb } from '../store/db';
import { runTransaction } from '../store/run-transaction';
import type { TConnectorTable, TInboundRouteTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';

// The connector schema's host and TLS policy, for the one hop from the relay to the tenant's own
// mail host. Decrypted S/MIME goes only over a checked certificate, as a decrypted portal reply
// goes only over an internal connector with --tls verify; so decrypt defaults to on with verify
// and is refused without it.
export const ZInboundRouteInput = z
  .object({
    deliverTo: ZConnectorHost,
    tls: z.enum(CONNECTOR_TLS_POLICIES, { error: 'must be opportunistic, required or verify' }),
    tlsName: ZTlsName.optional(),
    decrypt: z.boolean().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.decrypt && r.tls !== 'verify')
      ctx.addIssue({ code: 'custom', path: ['decrypt'], message: 'S/MIME mail is delivered decrypted only with --tls verify' });
    if (r.tlsName && r.tls !== 'verify')
      ctx.addIssue({ code: 'custom', path: ['tlsName'], message: 'a certificate name is checked only with --tls verify' });
  });
export type TInboundRouteInput = z.input<typeof ZInboundRouteInput>;

// Hostile input is refused where it enters, the field named (the console's form shows the same reason).
export function parseInboundRouteInput(input: unknown) {
  const parsed = ZInboundRouteInput.safeParse(input);
  if (!parsed.success)
    throw new AppError(
      'BAD_REQUEST',
      `Invalid inbound route: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

export type TInboundRouteView = {
  tenant: string;
  mailDomain: string;
  deliverTo: string;
  tls: TInboundRouteTable['tls'];
  tlsName: string | null;
  decrypt: boolean;
};

const toView = (tenant: Pick<TTenant, 'slug' | 'mail_domain'>, r: TInboundRouteTable): TInboundRouteView => ({
  tenant: tenant.slug,
  mailDomain: tenant.mail_domain,
  deliverTo: formatConnectorHost(r),
  tls: r.tls,
  tlsName: r.tls_name,
  decrypt: r.decrypt === 1,
});

export type SetInboundRouteOptions = { db: TDb; tenant: TTenant; input: unknown; actor?: string; now?: number };

// Sets (or replaces) the tenant's inbound route: from then on the relay accepts mail from any
// sender for the tenant's mail domain and sends it on to this host.
export async function setInboundRoute({
  db,
  tenant,
  input,
  actor = 'cli',
  now = Date.now(),
}: SetInboundRouteOptions): Promise<TInboundRouteView> {
  const r = parseInboundRouteInput(input);
  return runTransaction({
    db,
    work: async (trx) => {
      const before = await trx.selectFrom('inbound_routes').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirst();
      const row: TInboundRouteTable = {
        tenant_id: tenant.id,
        host: r.deliverTo.host,
        port: r.deliverTo.port,
        tls: r.tls,
        tls_name: r.tlsName ?? null,
        decrypt: (r.decrypt ?? r.tls === 'verify') ? 1 : 0,
        created_at: before?.created_at ?? now,
        updated_at: now,
      };
      if (before) await trx.updateTable('inbound_routes').set(row).where('tenant_id', '=', tenant.id).execute();
      else await trx.insertInto('inbound_routes').values(row).execute();
      const view = toView(tenant, row);
      await recordAudit(trx, {
        tenantId: tenant.id,
        type: 'inbound_route_set',
        actor,
        data: { before: before ? JSON.stringify(toView(tenant, before)) : null, after: JSON.stringify(view) },
        at: now,
      });
      return view;
    },
  });
}

export async function showInboundRoute({
  db,
  tenant,
}: {
  db: TDb;
  tenant: TTenant;
}): Promise<TInboundRouteView | { tenant: string; route: null }> {
  const row = await getInboundRoute({ db, tenantId: tenant.id });
  return row ? toView(tenant, row) : { tenant: tenant.slug, route: null };
}

export type RemoveInboundRouteOptions = { db: TDb; tenant: TTenant; actor?: string; now?: number };

// Mail already queued for the route waits (and is retried) until a route is set again or it expires.
export async function removeInboundRoute({ db, tenant, actor = 'cli', now = Date.now() }: RemoveInboundRouteOptions) {
  return runTransaction({
    db,
    work: async (trx) => {
      const row = await trx.deleteFrom('inbound_routes').where('tenant_id', '=', tenant.id).returningAll().executeTakeFirst();
      if (!row) throw new AppError('NOT_FOUND', `Tenant ${tenant.slug} has no inbound route`);
      await recordAudit(trx, {
        tenantId: tenant.id,
        type: 'inbound_route_removed',
        actor,
        data: { before: JSON.stringify(toView(tenant, row)), after: null },
        at: now,
      });
      return { tenant: tenant.slug, removed: true as const };
    },
  });
}

export const getInboundRoute = ({ db, tenantId }: { db: TDb; tenantId: string }) =>
  db.selectFrom('inbound_routes').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();

export const hasAnyInboundRoute = async (db: TDb) =>
  (await db.selectFrom('inbound_routes').select('tenant_id').limit(1).executeTakeFirst()) !== undefined;

export type TInboundTarget = { tenant: TTenant; route: TInboundRouteTable };

// The tenant that receives mail for this recipient: the one with an inbound route whose mail
// domain is the recipient's domain or a parent of it (the most specific domain wins).
export async function findInboundTarget({ db, recipient }: { db: TDb; recipient: string }): Promise<TInboundTarget | null> {
  const domain = addressDomain(recipient).toLowerCase();
  const labels = domain.split('.');
  const candidates = labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
  if (!candidates.length) return null;
  const rows = await db
    .selectFrom('inbound_routes')
    .innerJoin('tenants', 'tenants.id', 'inbound_routes.tenant_id')
    .selectAll('inbound_routes')
    .select('tenants.mail_domain as tenant_mail_domain')
    .where(sql<string>`lower(tenants.mail_domain)`, 'in', candidates)
    .execute();
  const best = rows.sort((a, b) => b.tenant_mail_domain.length - a.tenant_mail_domain.length)[0];
  if (!best) return null;
  const tenant = await db.selectFrom('tenants').selectAll().where('id', '=', best.tenant_id).executeTakeFirst();
  if (!tenant) return null;
  const { tenant_mail_domain: _, ...route } = best;
  return { tenant: tenant as TTenant, route };
}

// The route as a connector, so the outbox worker sends over it with the connectors' TLS code.
export const inboundRouteConnector = (route: TInboundRouteTable, tenant: Pick<TTenant, 'mail_domain'>): TConnectorTable => ({
  id: `inbound:${route.tenant_id}`,
  tenant_id: route.tenant_id,
  domain: tenant.mail_domain,
  host: route.host,
  port: route.port,
  tls: route.tls,
  tls_name: route.tls_name,
  internal: 0,
  created_at: route.created_at,
});
