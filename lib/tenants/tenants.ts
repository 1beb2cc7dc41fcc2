import crypto from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import { addTenantKeyVersion, type TKeyContext } from '../envelope/tenant-keys';
import { AppError } from '../errors';
import type { TConfig } from '../env';
import type { TDb } from '../store/db';
import type { TTenantTable } from '../store/schema';
import { setBranding } from '../templates/set-branding';

const RESERVED_SLUGS = new Set(['www', 'auth', 'admin', 'api', 'mail', 'mailbox', 'static', 'assets']);
export const ZSlug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'a slug is 1–32 lowercase letters, digits and inner hyphens')
  .refine((s) => !RESERVED_SLUGS.has(s), 'that slug is reserved');
export const ZMailDomain = z
  .string()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a mail domain such as example.com');

export type TTenant = TTenantTable;

export const tenantHost = (config: Pick<TConfig, 'SEALPOST_BASE_DOMAIN'>, tenant: Pick<TTenant, 'slug'>) =>
  `${tenant.slug}.${config.SEALPOST_BASE_DOMAIN}`;

// The origin recipients reach: https://<slug>.<base> in production, http://<slug>.localhost:3000 locally.
export const portalOrigin = (
  config: Pick<TConfig, 'SEALPOST_BASE_DOMAIN' | 'publicScheme' | 'publicPort'>,
  tenant: Pick<TTenant, 'slug' | 'custom_domain'>,
) => publicOrigin(config, tenant.custom_domain ?? tenantHost(config, tenant));

// A request's host as the rewritten [host] segment carries it: lowercase, without its port.
export const bareHost = (host: string) =>
  decodeURIComponent(host)
    .toLowerCase()
    .replace(/:\d{1,5}$/, '');

// The origin a browser reaches a host of ours on, as links in mail and redirects name it.
export function publicOrigin(config: Pick<TConfig, 'publicScheme' | 'publicPort'>, host: string) {
  const isDefaultPort = !config.publicPort || (config.publicScheme === 'https' ? config.publicPort === 443 : config.publicPort === 80);
  return `${config.publicScheme}://${host}${isDefaultPort ? '' : `:${config.publicPort}`}`;
}

export type CreateTenantOptions = TKeyContext & { db: TDb; slug: string; name: string; mailDomain: string; now?: number };

export async function createTenant({ db, master, slug, name, mailDomain, now = Date.now() }: CreateTenantOptions): Promise<TTenant> {
  const parsedSlug = ZSlug.safeParse(slug);
  if (!parsedSlug.success) throw new AppError('BAD_REQUEST', `Invalid slug "${slug}": ${parsedSlug.error.issues[0]?.message}`);
  const parsedDomain = ZMailDomain.safeParse(mailDomain);
  if (!parsedDomain.success) throw new AppError('BAD_REQUEST', `Invalid domain "${mailDomain}": ${parsedDomain.error.issues[0]?.message}`);
  const cleanName = name.trim();
  if (!cleanName || cleanName.length > 120) throw new AppError('BAD_REQUEST', 'A tenant name is 1–120 characters');
  if (await getTenantBySlug(db, slug)) throw new AppError('CONFLICT', `A tenant with slug "${slug}" already exists`);
  // One tenant per mail domain: a second would send as the first one's staff (a unique index too).
  const holder = await getTenantByMailDomain(db, parsedDomain.data);
  if (holder) throw new AppError('CONFLICT', `The mail domain ${parsedDomain.data} already belongs to tenant "${holder.slug}"`);
  const tenant: TTenant = {
    id: crypto.randomUUID(),
    slug,
    name: cleanName,
    mail_domain: parsedDomain.data,
    custom_domain: null,
    created_at: now,
  };
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('tenants').values(tenant).execute();
      // Every tenant has a default template: the one messages are sent with unless they name another.
      await setBranding({ db: trx, tenantId: tenant.id, input: {}, now });
      await addTenantKeyVersion({ db: trx, master, tenantId: tenant.id, now });
    });
  } catch (error) {
    // The same slug or domain created at the same moment: the unique indexes decide.
    if (isUniqueViolation(error))
      throw new AppError('CONFLICT', `A tenant with slug "${slug}" or mail domain ${parsedDomain.data} already exists`);
    throw error;
  }
  return tenant;
}

export const isUniqueViolation = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
};

export const getTenantById = (db: TDb, id: string) => db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();

const getTenantByMailDomain = (db: TDb, domain: string) =>
  db.selectFrom('tenants').select('slug').where(sql`lower(mail_domain)`, '=', domain.toLowerCase()).executeTakeFirst();

export const getTenantBySlug = (db: TDb, slug: string) => db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();

export async function getTenantBySlugOrThrow(db: TDb, slug: string): Promise<TTenant> {
  const tenant = await getTenantBySlug(db, slug);
  if (!tenant) throw new AppError('NOT_FOUND', `No tenant "${slug}"`);
  return tenant;
}

export const listTenants = (db: TDb) => db.selectFrom('tenants').selectAll().orderBy('slug').execute();
