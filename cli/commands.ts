import fs from 'node:fs';
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { addIdentityProvider, listIdentityProviders, removeIdentityProvider } from '../lib/auth/federated/tenant-identity-providers';
import { rewrapTenantKeys, addTenantKeyVersion, clearTenantKeyCache } from '../lib/envelope/tenant-keys';
import { createLocalMasterKeyProvider, dropPreviousMasterKey, loadMasterKeys, promoteNextMasterKey, stageNextMasterKey } from '../lib/envelope/master-key';
import { unblockRecipient } from '../lib/auth/passcodes/recipient-block';
import { purgeExpired, revokeMessage } from '../lib/envelope/revoke-message';
import { ConfigError } from '../lib/env';
import { startOutboxWorker } from '../lib/mail/outbox-worker';
import { sendMessage } from '../lib/messages/send-message';
import type { TContext } from '../lib/server/context';
import { addRelayAllow, listRelayAllow, removeRelayAllow } from '../lib/relay/relay-allow';
import { createRelayCredential, listRelayCredentials, revokeRelayCredential } from '../lib/relay/relay-credentials';
import { runRelay } from '../lib/relay/run-relay';
import { createApiKey } from '../lib/tenants/api-keys';
import { createTenant, getTenantBySlugOrThrow, listTenants, portalOrigin, setBranding, tenantHost } from '../lib/tenants/tenants';

type TRunOptions = { ctx: TContext; values: Record<string, string | undefined>; positionals: string[] };
type TCommand = { options?: ParseArgsConfig['options']; keepsRunning?: boolean; run(o: TRunOptions): Promise<unknown> };

const need = (value: string | undefined, what: string): string => {
  if (!value) throw new ConfigError(`missing ${what}`);
  return value;
};
const readFile = (file: string | undefined, what: string): Buffer => {
  const f = need(file, `${what} file`);
  if (!fs.existsSync(f)) throw new ConfigError(`${what} file not found: ${f}`);
  return fs.readFileSync(f);
};

export const USAGE = `Usage: sealpost <command>

  tenant create <slug> --name "<Name>" --domain <org mail domain>
  tenant list
  branding set --tenant <slug> [--template <name>] <file.json>
  apikey create --tenant <slug> [--name <label>]
  send --tenant <slug> [--template <name>] <file.eml>
  encrypt --tenant <slug> --out <dir> [--template <name>] <file.eml>
  revoke <messageId>
  unblock <messageId> <address>      let a recipient who hit the hard stop on wrong passcodes try again
  idp add --tenant <slug> --name <name> --display "<Label>" --issuer <https URL>
          --client-id <id> --client-secret-file <file, or - for standard input>
          [--trust-domain <mail domain>]...
  idp list --tenant <slug>
  idp remove --tenant <slug> --name <name>
  keys rotate --tenant <slug>
  master rotate
  purge
  worker
  relay                              the SMTP relay on SEALPOST_RELAY_PORT (and the outbox worker unless SEALPOST_WORKER=off)
  relay-credential create --tenant <slug>      prints a username and password once
  relay-credential list --tenant <slug>
  relay-credential revoke --tenant <slug> <username>
  relay-allow add|remove --tenant <slug> <address or CIDR>
  relay-allow list --tenant <slug>
`;

export const COMMANDS: Record<string, TCommand> = {
  'tenant create': {
    options: { name: { type: 'string' }, domain: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await createTenant({ db: ctx.db, master: ctx.master, slug: need(positionals[0], 'slug'), name: need(values.name, '--name'), mailDomain: need(values.domain, '--domain') });
      return { id: tenant.id, slug: tenant.slug, name: tenant.name, domain: tenant.mail_domain, host: tenantHost(ctx.config, tenant), url: portalOrigin(ctx.config, tenant) };
    },
  },
  'tenant list': {
    async run({ ctx }) {
      return (await listTenants(ctx.db)).map((t) => ({ id: t.id, slug: t.slug, name: t.name, domain: t.mail_domain, host: tenantHost(ctx.config, t) }));
    },
  },
  'branding set': {
    options: { tenant: { type: 'string' }, template: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      let input: unknown;
      try {
        input = JSON.parse(readFile(positionals[0], 'branding').toString('utf8'));
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError(`the branding file is not valid JSON: ${(error as Error).message}`);
      }
      return { tenant: tenant.slug, template: values.template ?? 'default', branding: await setBranding({ db: ctx.db, tenantId: tenant.id, template: values.template, input }) };
    },
  },
  'apikey create': {
    options: { tenant: { type: 'string' }, name: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const created = await createApiKey({ db: ctx.db, tenantId: tenant.id, name: values.name });
      return { tenant: tenant.slug, id: created.id, key: created.key, note: 'Store this key now: it is not shown again.' };
    },
  },
  send: {
    options: { tenant: { type: 'string' }, template: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const sent = await sendMessage({ ctx, tenant, raw: readFile(positionals[0], '.eml'), template: values.template, actor: 'cli' });
      return { messageId: sent.messageId, recipients: sent.recipients, rejected: sent.rejected, queued: sent.recipients.length };
    },
  },
  encrypt: {
    options: { tenant: { type: 'string' }, template: { type: 'string' }, out: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const out = path.resolve(need(values.out, '--out'));
      const sent = await sendMessage({ ctx, tenant, raw: readFile(positionals[0], '.eml'), template: values.template, deliver: false, actor: 'cli' });
      fs.mkdirSync(out, { recursive: true });
      // Written as each is built: a large message to many recipients never holds every wrapper at once.
      const files: string[] = [];
      for await (const w of sent.wrappers) {
        const file = path.join(out, `${String(files.length + 1).padStart(2, '0')}-${w.recipient.replace(/[^a-z0-9.@_-]/gi, '_')}.eml`);
        fs.writeFileSync(file, w.raw);
        files.push(file);
      }
      return { messageId: sent.messageId, recipients: sent.recipients, rejected: sent.rejected, files };
    },
  },
  revoke: {
    async run({ ctx, positionals }) {
      return revokeMessage({ db: ctx.db, messageId: need(positionals[0], 'messageId'), actor: 'cli' });
    },
  },
  unblock: {
    async run({ ctx, positionals }) {
      const [messageId, address] = [need(positionals[0], 'messageId'), need(positionals[1], 'address')];
      return { messageId, address, ...(await unblockRecipient({ db: ctx.db, messageId, address, actor: 'cli' })) };
    },
  },
  'idp add': {
    options: {
      tenant: { type: 'string' }, name: { type: 'string' }, display: { type: 'string' }, issuer: { type: 'string' }, 'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' }, 'trust-domain': { type: 'string', multiple: true },
    },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      // The secret never goes on a command line (shell history, the process list).
      const secretFile = need(values['client-secret-file'], '--client-secret-file');
      const clientSecret = (secretFile === '-' ? fs.readFileSync(0) : readFile(secretFile, 'client secret')).toString('utf8').trim();
      const trustedDomains = (values as Record<string, unknown>)['trust-domain'] as string[] | undefined;
      const input = { name: need(values.name, '--name'), displayName: need(values.display, '--display'), issuer: need(values.issuer, '--issuer'), clientId: need(values['client-id'], '--client-id'), clientSecret, trustedDomains };
      const added = await addIdentityProvider({ ctx, tenant, input });
      return { tenant: tenant.slug, ...added, next: `register ${added.redirectUri} as the redirect URI, then list "${added.name}" in a template's signInMethods.oidc` };
    },
  },
  'idp list': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      return listIdentityProviders({ ctx, tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')) });
    },
  },
  'idp remove': {
    options: { tenant: { type: 'string' }, name: { type: 'string' } },
    async run({ ctx, values }) {
      return removeIdentityProvider({ ctx, tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')), name: need(values.name, '--name') });
    },
  },
  'keys rotate': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      return { tenant: tenant.slug, version: await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId: tenant.id }) };
    },
  },
  'master rotate': {
    async run({ ctx }) {
      const { config } = ctx;
      if (config.SEALPOST_MASTER_KEY) {
        // Environment keys: the operator sets the new key as SEALPOST_MASTER_KEY and the old one as
        // SEALPOST_MASTER_KEY_PREVIOUS; this re-wraps everything under the new one.
        const rewrapped = await rewrapTenantKeys({ db: ctx.db, master: ctx.master, from: ctx.master });
        return { masterKeyId: ctx.master.currentId, rewrapped, next: 'remove SEALPOST_MASTER_KEY_PREVIOUS' };
      }
      // Key files: stage the next key, re-wrap under it in one transaction, then promote it. A crash
      // between any two steps leaves every key that wraps something on disk.
      const nextKey = stageNextMasterKey(config.dataDir);
      const next = createLocalMasterKeyProvider([nextKey, ...loadMasterKeys({ dataDir: config.dataDir })]);
      const rewrapped = await rewrapTenantKeys({ db: ctx.db, master: next, from: next });
      promoteNextMasterKey(config.dataDir);
      dropPreviousMasterKey(config.dataDir);
      clearTenantKeyCache();
      return { masterKeyId: next.currentId, rewrapped };
    },
  },
  purge: {
    async run({ ctx }) {
      return { shredded: await purgeExpired({ db: ctx.db }) };
    },
  },
  worker: {
    keepsRunning: true,
    async run({ ctx }) {
      const worker = startOutboxWorker({ ctx });
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await worker.stop();
      await ctx.db.destroy();
      return undefined;
    },
  },
  relay: {
    keepsRunning: true,
    async run({ ctx }) {
      const stop = await runRelay({ ctx, isWorkerOn: ctx.config.SEALPOST_WORKER === 'on' });
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await stop();
      await ctx.db.destroy();
      return undefined;
    },
  },
  'relay-credential create': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const created = await createRelayCredential({ db: ctx.db, tenant });
      return { tenant: tenant.slug, username: created.username, password: created.password, note: 'Store this password now: it is not shown again.' };
    },
  },
  'relay-credential list': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      return listRelayCredentials({ db: ctx.db, tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')) });
    },
  },
  'relay-credential revoke': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      return revokeRelayCredential({ db: ctx.db, tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')), username: need(positionals[0], 'username') });
    },
  },
  'relay-allow add': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      return addRelayAllow({ db: ctx.db, tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')), cidr: need(positionals[0], 'address or CIDR') });
    },
  },
  'relay-allow list': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      return { tenant: tenant.slug, allowed: await listRelayAllow({ db: ctx.db, tenant }) };
    },
  },
  'relay-allow remove': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      return removeRelayAllow({ db: ctx.db, tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')), cidr: need(positionals[0], 'address or CIDR') });
    },
  },
};
