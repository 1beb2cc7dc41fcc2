import { type Kysely, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

// Column types chosen to mean the same on SQLite and PostgreSQL: text, bigint (ms times),
// integer, and a blob type that the dialect names.
export type TDialectName = 'sqlite' | 'postgres';

const createMigrations = (dialect: TDialectName): Record<string, Migration> => ({
  '0001_foundation': {
    async up(db: Kysely<any>) {
      const isPg = dialect === 'postgres';
      const blob = isPg ? sql`bytea` : sql`blob`;
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('mail_domain', 'text', (c) => c.notNull())
        .addColumn('custom_domain', 'text', (c) => c.unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('branding')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('branding_pk', ['tenant_id', 'name'])
        .execute();
      await db.schema
        .createTable('tenant_keys')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('wrapped_key', blob, (c) => c.notNull())
        .addColumn('master_key_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tenant_keys_pk', ['tenant_id', 'version'])
        .execute();
      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('sender', 'text', (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('wrapped_cek', blob)
        .addColumn('envelope', 'text')
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('template', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text')
        .addColumn('request_hash', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('shredded_at', 'bigint')
        .addUniqueConstraint('messages_idempotency', ['tenant_id', 'idempotency_key'])
        .execute();
      await db.schema.createIndex('messages_expiry').on('messages').columns(['expires_at']).execute();
      await db.schema
        .createTable('recipients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addUniqueConstraint('recipients_unique', ['message_id', 'address'])
        .execute();
      await db.schema.createIndex('recipients_address').on('recipients').columns(['address']).execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('message_id', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('mail_from', 'text', (c) => c.notNull())
        .addColumn('rcpt_to', 'text', (c) => c.notNull())
        .addColumn('smtp_message_id', 'text', (c) => c.notNull().unique())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('payload', blob)
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'priority', 'next_attempt_at']).execute();
      await db.schema
        .createTable('audit_events')
        .addColumn('id', isPg ? 'bigserial' : 'integer', (c) => (isPg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('data', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_tenant_at').on('audit_events').columns(['tenant_id', 'at']).execute();
    },
  },
  '0002_passcodes': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('passcode_challenges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
        .addColumn('recipient_id', 'text')
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('reference', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('consumed_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('passcode_challenges_recipient')
        .on('passcode_challenges')
        .columns(['message_id', 'address', 'created_at'])
        .execute();
      await db.schema
        .createTable('rate_events')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rate_events_key_at').on('rate_events').columns(['key', 'at']).execute();
    },
  },
  '0003_held_envelopes': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('held_envelopes')
        .addColumn('message_id', 'text', (c) => c.primaryKey().references('messages.id').onDelete('cascade'))
        .addColumn('envelope', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0004_sessions_threads': {
    async up(db: Kysely<any>) {
      // A recipient's sign-in, kept server-side so that idle time slides, sign-out ends it for
      // good and every instance sees the same answer. The cookie only names it.
      await db.schema
        .createTable('recipient_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
        .addColumn('recipient_id', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('kept', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .execute();
      await db.schema.createIndex('recipient_sessions_expiry').on('recipient_sessions').columns(['expires_at']).execute();
      // Replies: the message answered and the conversation's first message.
      await db.schema.alterTable('messages').addColumn('in_reply_to', 'text').execute();
      await db.schema.alterTable('messages').addColumn('thread_id', 'text').execute();
      await db.schema.createIndex('messages_thread').on('messages').columns(['thread_id', 'sender']).execute();
    },
  },
  '0005_federated_signin': {
    async up(db: Kysely<any>) {
      const blob = dialect === 'postgres' ? sql`bytea` : sql`blob`;
      await db.schema
        .createTable('identity_providers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('client_secret', blob, (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('trusted_domains', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('identity_providers_name', ['tenant_id', 'name'])
        .execute();
      await db.schema
        .createTable('federated_signins')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
        .addColumn('link_token', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('auth_browser_hash', 'text')
        .addColumn('keep', 'integer', (c) => c.notNull())
        .addColumn('switch_account', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('address', 'text')
        .addColumn('handoff_hash', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('handoff_expires_at', 'bigint')
        .execute();
      await db.schema.createIndex('federated_signins_expiry').on('federated_signins').columns(['expires_at']).execute();
    },
  },
  '0006_unique_mail_domain': {
    async up(db: Kysely<any>) {
      // Two tenants on one mail domain could each send as the other's staff. An existing database
      // that has them stops here with the domains named, rather than picking one in silence.
      const { rows } = await sql<{ domain: string; slugs: string }>`
        select lower(mail_domain) as domain, ${dialect === 'postgres' ? sql`string_agg(slug, ', ')` : sql`group_concat(slug, ', ')`} as slugs
        from tenants group by lower(mail_domain) having count(*) > 1`.execute(db);
      if (rows.length > 0) {
        throw new Error(
          `mail domains must be unique across tenants; shared now: ${rows.map((r) => `${r.domain} (${r.slugs})`).join('; ')}`,
        );
      }
      await db.schema.createIndex('tenants_mail_domain').on('tenants').unique().expression(sql`lower(mail_domain)`).execute();
    },
  },
  '0007_passcode_hard_stop': {
    async up(db: Kysely<any>) {
      // Wrong passcodes in a row (only a successful sign-in resets them), and when they reached
      // the hard stop.
      await db.schema
        .alterTable('recipients')
        .addColumn('passcode_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('recipients').addColumn('passcode_blocked_at', 'bigint').execute();
    },
  },
  // Recipient fan-out: wrappers are built at delivery from one stored envelope per message.
  '0008_wrappers_at_delivery': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('outbox').addColumn('recipient_id', 'text').execute();
      await db.schema
        .createTable('pending_envelopes')
        .addColumn('message_id', 'text', (c) => c.primaryKey().references('messages.id').onDelete('cascade'))
        .addColumn('envelope', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('outbox_message_status').on('outbox').columns(['message_id', 'status']).execute();
    },
  },
  // Mail-flow rules: one row per rule in priority order, and one row of settings per tenant (the
  // default action and the extra internal domains). Every change rewrites the tenant's set in one
  // transaction that first locks its settings row.
  '0009_rules': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mail_rule_settings')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
        .addColumn('default_action', 'text', (c) => c.notNull())
        .addColumn('internal_domains', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mail_rules')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('mail_rules_pk', ['tenant_id', 'position'])
        .execute();
      await db.schema.createIndex('mail_rules_name').on('mail_rules').unique().columns(['tenant_id', 'name']).execute();
    },
  },
  // Outbound TLS connectors: per tenant, per recipient domain ('*': the tenant's default).
  '0010_connectors': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('connectors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('domain', 'text', (c) => c.notNull())
        .addColumn('host', 'text')
        .addColumn('port', 'integer')
        .addColumn('tls', 'text', (c) => c.notNull())
        .addColumn('tls_name', 'text')
        .addColumn('internal', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('connectors_domain', ['tenant_id', 'domain'])
        .execute();
    },
  },
  // The SMTP relay: per-tenant credentials and source-address allow-lists.
  '0011_relay': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('relay_credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('relay_allow')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('cidr', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('relay_allow_cidr', ['tenant_id', 'cidr'])
        .execute();
    },
  },
  // The reader's view of a message (sanitised body, headers, attachment list), rendered once and
  // sealed under a key derived from the message's own content key: revocation and expiry, which
  // shred that key, leave these rows unreadable (and delete them). A view of a message the server
  // keeps no copy of expires with the envelope held for its reader.
  '0012_reader_views': {
    async up(db: Kysely<any>) {
      const blob = dialect === 'postgres' ? sql`bytea` : sql`blob`;
      await db.schema
        .createTable('reader_views')
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
        .addColumn('variant', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('sealed', blob, (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('reader_views_pk', ['message_id', 'variant'])
        .execute();
      await db.schema.createIndex('reader_views_expiry').on('reader_views').columns(['expires_at']).execute();
    },
  },
  // DKIM keys per tenant domain (the private key sealed under the tenant key, like an identity
  // provider's secret), and the mark that a message's sender was told of a bounce (once).
  '0013_dkim_bounces': {
    async up(db: Kysely<any>) {
      const blob = dialect === 'postgres' ? sql`bytea` : sql`blob`;
      await db.schema
        .createTable('dkim_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('domain', 'text', (c) => c.notNull())
        .addColumn('selector', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('private_key', blob, (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .addUniqueConstraint('dkim_keys_selector', ['domain', 'selector'])
        .execute();
      await db.schema.createIndex('dkim_keys_tenant').on('dkim_keys').columns(['tenant_id', 'domain']).execute();
      await db.schema.alterTable('messages').addColumn('bounce_notified_at', 'bigint').execute();
    },
  },
  // The tenant admin console (lib/admin): admins, their passkeys, single-use invitations, the
  // WebAuthn challenges of ceremonies in flight, and server-side admin sessions. Secrets (an
  // invitation's, a session's) are stored only as keyed hashes under the tenant key of key_version.
  '0014_admin_console': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('admins')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('webauthn_user_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('admins_email', ['tenant_id', 'email'])
        .execute();
      await db.schema
        .createTable('admin_passkeys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('admin_id', 'text', (c) => c.notNull().references('admins.id').onDelete('cascade'))
        .addColumn('credential_id', 'text', (c) => c.notNull().unique())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('admin_invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('invited_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('admin_challenges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('challenge', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('admin_challenges_expiry').on('admin_challenges').columns(['expires_at']).execute();
      await db.schema
        .createTable('admin_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('admin_id', 'text', (c) => c.notNull().references('admins.id').onDelete('cascade'))
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('verified_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .execute();
      await db.schema.createIndex('admin_sessions_expiry').on('admin_sessions').columns(['expires_at']).execute();
      // The messages page: newest first per tenant (keyset), its views per message; the audit log
      // and its export: a tenant's events by id (keyset), and by actor (the address filter).
      // Without them a 100,000-row export took 11 s on SQLite, each page sorting the tenant anew.
      await db.schema.createIndex('messages_tenant_created').on('messages').columns(['tenant_id', 'created_at', 'id']).execute();
      await db.schema.createIndex('audit_tenant_id').on('audit_events').columns(['tenant_id', 'id']).execute();
      await db.schema.createIndex('audit_tenant_message').on('audit_events').columns(['tenant_id', 'message_id', 'id']).execute();
      await db.schema.createIndex('audit_tenant_actor').on('audit_events').columns(['tenant_id', 'actor', 'id']).execute();
    },
  },
  // Admins sign in through the tenant's own providers too: a federated sign-in is a recipient's
  // (for a message's link) or an admin's (for the console, with no message), and a provider
  // serves admins only where the tenant says so (a partner's provider could assert any address).
  '0015_admin_oidc': {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('identity_providers')
        .addColumn('for_admins', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      if (dialect === 'postgres') {
        await sql`alter table federated_signins alter column message_id drop not null`.execute(db);
        await sql`alter table federated_signins alter column link_token drop not null`.execute(db);
      } else {
        // SQLite cannot drop a NOT NULL: the table is made anew with the same rows.
        await sql`alter table federated_signins rename to federated_signins_old`.execute(db);
        await sql`drop index if exists federated_signins_expiry`.execute(db);
        await db.schema
          .createTable('federated_signins')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
          .addColumn('message_id', 'text', (c) => c.references('messages.id').onDelete('cascade'))
          .addColumn('link_token', 'text')
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('browser_hash', 'text', (c) => c.notNull())
          .addColumn('auth_browser_hash', 'text')
          .addColumn('keep', 'integer', (c) => c.notNull())
          .addColumn('switch_account', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text')
          .addColumn('address', 'text')
          .addColumn('handoff_hash', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('handoff_expires_at', 'bigint')
          .execute();
        await sql`insert into federated_signins select * from federated_signins_old`.execute(db);
        await sql`drop table federated_signins_old`.execute(db);
        await db.schema.createIndex('federated_signins_expiry').on('federated_signins').columns(['expires_at']).execute();
      }
      await db.schema
        .alterTable('federated_signins')
        .addColumn('purpose', 'text', (c) => c.notNull().defaultTo('recipient'))
        .execute();
      // An admin's: the console page to return to, and the session a re-verification replaces.
      await db.schema.alterTable('federated_signins').addColumn('next_path', 'text').execute();
      await db.schema.alterTable('federated_signins').addColumn('replaces_session', 'text').execute();
      // The tenant host an admin's sign-in began on (its slug host or custom domain): the hand-off
      // comes back there, where its binding cookie is.
      await db.schema.alterTable('federated_signins').addColumn('return_host', 'text').execute();
    },
  },
  // Usage restrictions recorded per message at send time (lib/messages/message-restrictions.ts).
  '0016_restrictions': {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('messages')
        .addColumn('restrictions', 'text', (c) => c.notNull().defaultTo('none'))
        .execute();
    },
  },
  // The subject a message was sent with, for the console's messages page: only when its template
  // shows subjects, sealed under the tenant key of the message's key_version (the subject is
  // content; a database dump alone must not read it), and shredded with the message's key.
  '0017_message_subject': {
    async up(db: Kysely<any>) {
      const blob = dialect === 'postgres' ? sql`bytea` : sql`blob`;
      await db.schema.alterTable('messages').addColumn('subject_sealed', blob).execute();
      // The messages page's sender filter is a substring match (lower(sender) LIKE '%…%'). With
      // 100,000 messages PostgreSQL planned it as a scan of the tenant's rows and a sort: 140 ms
      // p50 (bench/admin). A trigram index answers it from the matching rows only. pg_trgm is a
      // trusted extension (PostgreSQL 13+): the database's owner may create it. SQLite walks the
      // (tenant_id, created_at, id) index newest first and stops at a page (7 ms): nothing to add.
      if (dialect === 'postgres') {
        await sql`create extension if not exists pg_trgm`.execute(db);
        await sql`create index messages_sender_trgm on messages using gin (lower(sender) gin_trgm_ops)`.execute(db);
      }
    },
  },
  // S/MIME (lib/smime): certificates per tenant. `signing` rows hold the tenant's signing
  // certificate with its private key sealed under the tenant key (like a DKIM key); `recipient`
  // rows a correspondent's certificate (added by an admin or taken from a verified signature);
  // `ca` rows the CAs the tenant trusts beside the system bundle.
  '0018_smime': {
    async up(db: Kysely<any>) {
      const blob = dialect === 'postgres' ? sql`bytea` : sql`blob`;
      await db.schema
        .createTable('smime_certificates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('certificate', blob, (c) => c.notNull())
        .addColumn('chain', blob)
        .addColumn('private_key', blob)
        .addColumn('key_version', 'integer')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('smime_certificates_fingerprint', ['tenant_id', 'kind', 'fingerprint'])
        .execute();
      await db.schema
        .createIndex('smime_certificates_address')
        .on('smime_certificates')
        .columns(['tenant_id', 'kind', 'address'])
        .execute();
    },
  },
  // What a correspondent's S/MIME client reads (RFC 8551 §2.5.2), so that encryption picks
  // AES-256-GCM for those who announced it and AES-256-CBC for the rest.
  '0019_smime_capabilities': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('smime_certificates').addColumn('capabilities', 'text').execute();
    },
  },
  // Limits with a large max (a tenant's 50,000 relayed messages an hour) counted per time bucket
  // rather than one row per event: the relay checked its limit by walking up to 50,000 index
  // entries for every message. The relay's events so far become counters, so the hour in
  // progress still counts at the upgrade (lib/rate-limit/rate-limits.ts).
  '0020_relay_counters': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('rate_counters')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('bucket', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_counters_pk', ['key', 'bucket'])
        .execute();
      await sql`insert into rate_counters (key, bucket, count)
        select key, (at / 60000) * 60000, count(*) from rate_events where key like 'relayMessagesPerTenant:%'
        group by key, (at / 60000) * 60000`.execute(db);
      await sql`delete from rate_events where key like 'relayMessagesPerTenant:%'`.execute(db);
    },
  },
  // Inbound mail: one route per tenant, from the relay to the tenant's own mail host (outbox kind
  // 'inbound' needs no change: kind is plain text).
  '0021_inbound_route': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('inbound_routes')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('tls', 'text', (c) => c.notNull())
        .addColumn('tls_name', 'text')
        .addColumn('decrypt', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  // The signature scheme of a tenant's RSA signing key: 'pss' (RSASSA-PSS) or null (PKCS#1 v1.5,
  // what every S/MIME client verifies). An RSA-PSS key (id-RSASSA-PSS) always signs with PSS.
  '0022_smime_signature': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('smime_certificates').addColumn('signature_scheme', 'text').execute();
    },
  },
  // A kept message's envelope ciphertext in rows of 768 KiB (lib/store/envelope-parts.ts), its
  // frame (the compact JWE without its ciphertext) in messages.envelope: a 150 MB message is
  // stored, read and streamed a row at a time. Messages stored before keep their whole token.
  '0023_envelope_parts': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('envelope_parts')
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('data', dialect === 'postgres' ? sql`bytea` : sql`blob`, (c) => c.notNull())
        .addPrimaryKeyConstraint('envelope_parts_pk', ['message_id', 'seq'])
        .execute();
    },
  },
});

export const createMigrationProvider = (dialect: TDialectName): MigrationProvider => ({
  getMigrations: async () => createMigrations(dialect),
});
