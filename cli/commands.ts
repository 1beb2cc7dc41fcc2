import fs from 'node:fs';
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { addIdentityProvider, listIdentityProviders, removeIdentityProvider } from '../lib/auth/federated/tenant-identity-providers';
import { checkDkimRecords } from '../lib/dkim/check-dkim-records';
import { createDkimKey } from '../lib/dkim/create-dkim-key';
import { rotateDkimKeys } from '../lib/dkim/rotate-dkim-keys';
import { listDkimKeys } from '../lib/dkim/list-dkim-keys';
import { addTenantKeyVersion } from '../lib/envelope/tenant-keys';
import { rotateMasterKey } from '../lib/envelope/rotate-master-key';
import { inviteAdmin } from '../lib/admin/invite-admin';
import { listAdmins } from '../lib/admin/list-admins';
import { removeAdmin } from '../lib/admin/remove-admin';
import { unblockRecipient } from '../lib/auth/passcodes/recipient-block';
import { revokeMessage } from '../lib/envelope/revoke-message';
import { addConnector } from '../lib/connectors/add-connector';
import { listConnectors } from '../lib/connectors/list-connectors';
import { removeConnector } from '../lib/connectors/remove-connector';
import { ConfigError } from '../lib/env';
import { startOutboxWorker } from '../lib/mail/outbox-worker';
import { sendMessage } from '../lib/messages/send-message';
import type { TContext } from '../lib/server/context';
import { addRule } from '../lib/rules/add-rule';
import { importRules } from '../lib/rules/import-rules';
import { moveRule } from '../lib/rules/move-rule';
import { removeRule } from '../lib/rules/remove-rule';
import { loadRuleSet } from '../lib/rules/rule-set-store';
import { setRuleSettings } from '../lib/rules/set-rule-settings';
import { RULE_FLAG_OPTIONS, ruleInputFromFlags } from '../lib/rules/rule-input-from-flags';
import { testRules } from '../lib/rules/test-rules';
import { runHousekeeping } from '../lib/server/housekeeping';
import { removeInboundRoute, setInboundRoute, showInboundRoute } from '../lib/relay/inbound-route';
import { addRelayAllow, listRelayAllow, removeRelayAllow } from '../lib/relay/relay-allow';
import { createRelayCredential, listRelayCredentials, revokeRelayCredential } from '../lib/relay/relay-credentials';
import { runRelay } from '../lib/relay/run-relay';
import { serveMetrics } from '../lib/metrics/serve-metrics';
import { createApiKey } from '../lib/tenants/api-keys';
import { createTenant, getTenantBySlugOrThrow, listTenants, portalOrigin, tenantHost } from '../lib/tenants/tenants';
import { setBranding } from '../lib/templates/set-branding';

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
          [--trust-domain <mail domain>]... [--for-admins]   (admins may sign in to the console with it)
  idp list --tenant <slug>
  idp remove --tenant <slug> --name <name>
  dkim create --tenant <slug> [--domain <d>] [--selector <s>] [--algorithm rsa-2048|ed25519]
          prints the TXT record to publish; create one of each algorithm to sign twice (RSA and Ed25519)
  dkim list --tenant <slug>
  dkim rotate --tenant <slug> [--domain <d>] [--selector <s>]   new keys; the old ones sign no more and go after a week
  dkim check --tenant <slug>         looks each selector up in DNS and says whether it matches the key
  smime import --tenant <slug> [--password-file <file, or - for standard input>] [--signature rsa-pkcs1|rsa-pss] <file.p12>
          the tenant's signing certificate; its private key is sealed under the tenant key
  smime cert add --tenant <slug> [--address <a>] [--capabilities aes256-gcm,aes256-cbc] <cert.pem>
          a recipient's certificate (checked); with aes256-gcm among the ciphers their client reads, mail to them is AES-256-GCM
  smime cert list|remove --tenant <slug> [<address or fingerprint>]
  smime ca add|list|remove --tenant <slug> [<ca.pem> | <fingerprint>]   CAs trusted beside the system bundle
  smime signing list|remove --tenant <slug> [<address or fingerprint>]
  connector add --tenant <slug> --domain <recipient domain, or '*' for the default>
          --tls opportunistic|required|verify [--host <host[:port]>] [--tls-name <certificate name>]
          [--internal]                deliver portal replies to the tenant's own users decrypted (verify only)
  connector list --tenant <slug>
  connector remove --tenant <slug> --domain <domain>
  keys rotate --tenant <slug>
  rules add --tenant <slug> --name <name> [conditions] --action encrypt|pass|reject
          [--template <name>] [--remove-keyword] [--reject-text <text>] [--stop] [--priority <n>] [--disabled]
          conditions (all must hold; each has a --not-<condition> twin that negates it):
          [--subject-contains <word>]... [--body-contains <word>]... (subject or body)
          [--recipient-outside] [--recipient-domain <d>]... [--sender <address|domain>]...
          [--header <Name:value>]... (contains) [--header-equals <Name:value>]...
          [--larger-than <bytes>] [--has-attachment]
  rules list --tenant <slug>
  rules remove --tenant <slug> --name <name>
  rules move --tenant <slug> --name <name> --to <position>
  rules default --tenant <slug> --action pass|encrypt [--template <name>]
  rules internal-domains --tenant <slug> [--domain <d>]...   (replaces the list; none clears it)
  rules test --tenant <slug> <file.eml>       what the rules would do per recipient; sends nothing
  rules import --tenant <slug> <file.json>    replaces the whole set
  rules export --tenant <slug> [<file.json>]
  master rotate
  purge
  worker
  relay                              the SMTP relay on SEALPOST_RELAY_PORT (and the outbox worker unless SEALPOST_WORKER=off)
  relay-credential create --tenant <slug>      prints a username and password once
  relay-credential list --tenant <slug>
  relay-credential revoke --tenant <slug> <username>
  relay-allow add|remove --tenant <slug> <address or CIDR>
  relay-allow list --tenant <slug>
  relay inbound set --tenant <slug> --deliver-to <host[:port]> --tls opportunistic|required|verify
          [--tls-name <certificate name>] [--decrypt on|off]
          mail from outside for the tenant's mail domain (its MX or gateway points at the relay) goes on
          to this host; S/MIME signatures are verified and their certificates learned; mail encrypted to
          the tenant's own certificate is delivered decrypted (on by default with --tls verify, which it requires)
  relay inbound show|remove --tenant <slug>
  admin invite --tenant <slug> --role owner|admin|auditor <email>   prints a single-use link, valid 24 hours
  admin list --tenant <slug>
  admin remove --tenant <slug> <email>      (not the last owner)
`;

export const COMMANDS: Record<string, TCommand> = {
  'admin invite': {
    options: { tenant: { type: 'string' }, role: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const input = { email: need(positionals[0], 'email'), role: need(values.role, '--role') };
      return { tenant: tenant.slug, ...(await inviteAdmin({ ctx, tenant, input, actor: 'cli' })) };
    },
  },
  'admin list': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      return { tenant: tenant.slug, admins: await listAdmins({ db: ctx.db, tenantId: tenant.id }) };
    },
  },
  'admin remove': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      return {
        tenant: tenant.slug,
        ...(await removeAdmin({ db: ctx.db, tenantId: tenant.id, email: need(positionals[0], 'email'), actor: 'cli' })),
      };
    },
  },
  'tenant create': {
    options: { name: { type: 'string' }, domain: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await createTenant({
        db: ctx.db,
        master: ctx.master,
        slug: need(positionals[0], 'slug'),
        name: need(values.name, '--name'),
        mailDomain: need(values.domain, '--domain'),
      });
      return {
        id: tenant.id,
        slug: tenant.slug,
        name: tenant.name,
        domain: tenant.mail_domain,
        host: tenantHost(ctx.config, tenant),
        url: portalOrigin(ctx.config, tenant),
      };
    },
  },
  'tenant list': {
    async run({ ctx }) {
      return (await listTenants(ctx.db)).map((t) => ({
        id: t.id,
        slug: t.slug,
        name: t.name,
        domain: t.mail_domain,
        host: tenantHost(ctx.config, t),
      }));
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
      return {
        tenant: tenant.slug,
        template: values.template ?? 'default',
        branding: await setBranding({ db: ctx.db, tenantId: tenant.id, template: values.template, input }),
      };
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
      const sent = await sendMessage({
        ctx,
        tenant,
        raw: readFile(positionals[0], '.eml'),
        template: values.template,
        deliver: false,
        actor: 'cli',
      });
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
      tenant: { type: 'string' },
      name: { type: 'string' },
      display: { type: 'string' },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      'trust-domain': { type: 'string', multiple: true },
      'for-admins': { type: 'boolean' },
    },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      // The secret never goes on a command line (shell history, the process list).
      const secretFile = need(values['client-secret-file'], '--client-secret-file');
      const clientSecret = (secretFile === '-' ? fs.readFileSync(0) : readFile(secretFile, 'client secret')).toString('utf8').trim();
      const trustedDomains = (values as Record<string, unknown>)['trust-domain'] as string[] | undefined;
      const input = {
        name: need(values.name, '--name'),
        displayName: need(values.display, '--display'),
        issuer: need(values.issuer, '--issuer'),
        clientId: need(values['client-id'], '--client-id'),
        clientSecret,
        trustedDomains,
        forAdmins: (values as Record<string, unknown>)['for-admins'] === true,
      };
      const added = await addIdentityProvider({ ctx, tenant, input });
      return {
        tenant: tenant.slug,
        ...added,
        next: `register ${added.redirectUri} as the redirect URI, then list "${added.name}" in a template's signInMethods.oidc`,
      };
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
      return removeIdentityProvider({
        ctx,
        tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')),
        name: need(values.name, '--name'),
      });
    },
  },
  'dkim create': {
    options: { tenant: { type: 'string' }, domain: { type: 'string' }, selector: { type: 'string' }, algorithm: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const key = await createDkimKey({ ctx, tenant, domain: values.domain, selector: values.selector, algorithm: values.algorithm });
      return { tenant: tenant.slug, ...key, note: 'Publish the TXT record, then check it with `sealpost dkim check`.' };
    },
  },
  'dkim list': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      return listDkimKeys({ ctx, tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')) });
    },
  },
  'dkim rotate': {
    options: { tenant: { type: 'string' }, domain: { type: 'string' }, selector: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const keys = await rotateDkimKeys({ ctx, tenant, domain: values.domain, selector: values.selector });
      return { tenant: tenant.slug, keys, note: 'Publish the new records now; keep the old ones for a week.' };
    },
  },
  'dkim check': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const checks = await checkDkimRecords({ ctx, tenant });
      return { tenant: tenant.slug, isOk: checks.length > 0 && checks.every((c) => c.result === 'ok'), checks };
    },
  },
  'smime import': {
    options: { tenant: { type: 'string' }, 'password-file': { type: 'string' }, signature: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      // The password never goes on a command line (shell history, the process list).
      const file = values['password-file'] ?? '-';
      const password = (file === '-' ? fs.readFileSync(0) : readFile(file, 'password')).toString('utf8').replace(/\r?\n$/, '');
      const p12 = readFile(positionals[0], '.p12');
      // lib/smime (pkijs) is loaded by its own commands only: every other command starts faster.
      const signature = values.signature ?? 'rsa-pkcs1';
      if (signature !== 'rsa-pkcs1' && signature !== 'rsa-pss')
        throw new ConfigError(`--signature must be rsa-pkcs1 or rsa-pss (RSA keys; an EC key signs with ECDSA), not "${signature}"`);
      const { importSigningCertificate } = await import('../lib/smime/import-signing-certificate');
      const signatureScheme = signature === 'rsa-pss' ? 'pss' : 'pkcs1';
      return { tenant: tenant.slug, ...(await importSigningCertificate({ ctx, tenant, p12, password, actor: 'cli', signatureScheme })) };
    },
  },
  'smime cert': smimeCertificateCommand('recipient'),
  'smime ca': smimeCertificateCommand('ca'),
  'smime signing': smimeCertificateCommand('signing'),
  'connector add': {
    options: {
      tenant: { type: 'string' },
      domain: { type: 'string' },
      tls: { type: 'string' },
      host: { type: 'string' },
      'tls-name': { type: 'string' },
      internal: { type: 'boolean' },
    },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const v = values as Record<string, unknown>;
      const input = {
        domain: need(values.domain, '--domain'),
        tls: need(values.tls, '--tls'),
        host: values.host,
        tlsName: values['tls-name'],
        internal: v.internal === true,
      };
      return { tenant: tenant.slug, ...(await addConnector({ db: ctx.db, tenant, input })) };
    },
  },
  'connector list': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      return listConnectors({ db: ctx.db, tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')) });
    },
  },
  'connector remove': {
    options: { tenant: { type: 'string' }, domain: { type: 'string' } },
    async run({ ctx, values }) {
      return removeConnector({
        db: ctx.db,
        tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')),
        domain: need(values.domain, '--domain'),
      });
    },
  },
  'keys rotate': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      return { tenant: tenant.slug, version: await addTenantKeyVersion({ db: ctx.db, master: ctx.master, tenantId: tenant.id }) };
    },
  },
  'rules add': {
    options: RULE_FLAG_OPTIONS,
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      need(values.name, '--name');
      const { input, position } = ruleInputFromFlags(values, (message) => new ConfigError(message));
      const added = await addRule({ db: ctx.db, tenantId: tenant.id, input, position });
      return { tenant: tenant.slug, position: added.position, rule: added.rule };
    },
  },
  'rules list': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const set = await loadRuleSet({ db: ctx.db, tenantId: tenant.id });
      return {
        tenant: tenant.slug,
        mailDomain: tenant.mail_domain,
        ...set,
        rules: set.rules.map((rule, i) => ({ position: i + 1, ...rule })),
      };
    },
  },
  'rules remove': {
    options: { tenant: { type: 'string' }, name: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      return { tenant: tenant.slug, ...(await removeRule({ db: ctx.db, tenantId: tenant.id, name: need(values.name, '--name') })) };
    },
  },
  'rules move': {
    options: { tenant: { type: 'string' }, name: { type: 'string' }, to: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const to = need(values.to, '--to');
      if (!/^\d{1,6}$/.test(to)) throw new ConfigError('--to must be a position (1 is first)');
      return {
        tenant: tenant.slug,
        ...(await moveRule({ db: ctx.db, tenantId: tenant.id, name: need(values.name, '--name'), to: Number(to) })),
      };
    },
  },
  'rules default': {
    options: { tenant: { type: 'string' }, action: { type: 'string' }, template: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const kind = need(values.action, '--action');
      if (kind !== 'pass' && kind !== 'encrypt') throw new ConfigError('--action must be pass or encrypt');
      if (kind === 'pass' && values.template !== undefined) throw new ConfigError('--template goes with --action encrypt');
      const defaultAction = kind === 'encrypt' ? { kind, template: values.template } : { kind };
      return { tenant: tenant.slug, ...(await setRuleSettings({ db: ctx.db, tenantId: tenant.id, defaultAction })) };
    },
  },
  'rules internal-domains': {
    options: { tenant: { type: 'string' }, domain: { type: 'string', multiple: true } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const internalDomains = ((values as Record<string, unknown>).domain as string[] | undefined) ?? [];
      return {
        tenant: tenant.slug,
        mailDomain: tenant.mail_domain,
        ...(await setRuleSettings({ db: ctx.db, tenantId: tenant.id, internalDomains })),
      };
    },
  },
  'rules test': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const raw = readFile(positionals[0], '.eml');
      return {
        tenant: tenant.slug,
        recipients: await testRules({ db: ctx.db, tenantId: tenant.id, raw, maxBytes: ctx.config.SEALPOST_MAX_MESSAGE_BYTES }),
      };
    },
  },
  'rules import': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      let input: unknown;
      try {
        input = JSON.parse(readFile(positionals[0], 'rules').toString('utf8'));
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError(`the rules file is not valid JSON: ${(error as Error).message}`);
      }
      const set = await importRules({ db: ctx.db, tenantId: tenant.id, input });
      return { tenant: tenant.slug, imported: set.rules.length, order: set.rules.map((r) => r.name) };
    },
  },
  'rules export': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const set = await loadRuleSet({ db: ctx.db, tenantId: tenant.id });
      if (!positionals[0]) return set;
      fs.writeFileSync(positionals[0], `${JSON.stringify(set, null, 2)}\n`);
      return { tenant: tenant.slug, file: positionals[0], rules: set.rules.length };
    },
  },
  'master rotate': {
    async run({ ctx }) {
      const source = ctx.config.SEALPOST_MASTER_KEY ? 'environment' : 'files';
      const rotated = await rotateMasterKey({ db: ctx.db, master: ctx.master, dataDir: ctx.config.dataDir, source });
      return source === 'environment' ? { ...rotated, next: 'remove SEALPOST_MASTER_KEY_PREVIOUS' } : rotated;
    },
  },
  purge: {
    async run({ ctx }) {
      return runHousekeeping({ ctx });
    },
  },
  worker: {
    keepsRunning: true,
    async run({ ctx }) {
      const worker = startOutboxWorker({ ctx });
      const metrics = await serveMetrics({ ctx });
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await worker.stop();
      await metrics?.close();
      await ctx.db.destroy();
      return undefined;
    },
  },
  relay: {
    keepsRunning: true,
    async run({ ctx }) {
      const stop = await runRelay({ ctx, isWorkerOn: ctx.config.SEALPOST_WORKER === 'on' });
      const metrics = await serveMetrics({ ctx });
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await stop();
      await metrics?.close();
      await ctx.db.destroy();
      return undefined;
    },
  },
  'relay inbound': {
    options: {
      tenant: { type: 'string' },
      'deliver-to': { type: 'string' },
      tls: { type: 'string' },
      'tls-name': { type: 'string' },
      decrypt: { type: 'string' },
    },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const action = positionals[0];
      if (action === 'show') return showInboundRoute({ db: ctx.db, tenant });
      if (action === 'remove') return removeInboundRoute({ db: ctx.db, tenant });
      if (action !== 'set') throw new ConfigError('relay inbound: say set, show or remove');
      const decrypt = values.decrypt;
      if (decrypt !== undefined && decrypt !== 'on' && decrypt !== 'off') throw new ConfigError('--decrypt: must be on or off');
      const input = {
        deliverTo: need(values['deliver-to'], '--deliver-to'),
        tls: need(values.tls, '--tls'),
        tlsName: values['tls-name'],
        decrypt: decrypt === undefined ? undefined : decrypt === 'on',
      };
      return setInboundRoute({ db: ctx.db, tenant, input });
    },
  },
  'relay-credential create': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const created = await createRelayCredential({ db: ctx.db, tenant });
      return {
        tenant: tenant.slug,
        username: created.username,
        password: created.password,
        note: 'Store this password now: it is not shown again.',
      };
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
      return revokeRelayCredential({
        db: ctx.db,
        tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')),
        username: need(positionals[0], 'username'),
      });
    },
  },
  'relay-allow add': {
    options: { tenant: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      return addRelayAllow({
        db: ctx.db,
        tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')),
        cidr: need(positionals[0], 'address or CIDR'),
      });
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
      return removeRelayAllow({
        db: ctx.db,
        tenant: await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant')),
        cidr: need(positionals[0], 'address or CIDR'),
      });
    },
  },
};

// `smime cert|ca|signing add|list|remove`: the action is the first positional.
function smimeCertificateCommand(kind: 'recipient' | 'ca' | 'signing'): TCommand {
  return {
    options: { tenant: { type: 'string' }, address: { type: 'string' }, capabilities: { type: 'string' } },
    async run({ ctx, values, positionals }) {
      const tenant = await getTenantBySlugOrThrow(ctx.db, need(values.tenant, '--tenant'));
      const [action, arg] = positionals;
      const [{ addSmimeCertificate }, { listSmimeCertificates }, { removeSmimeCertificate }] = await Promise.all([
        import('../lib/smime/add-smime-certificate'),
        import('../lib/smime/list-smime-certificates'),
        import('../lib/smime/remove-smime-certificate'),
      ]);
      if (action === 'list')
        return { tenant: tenant.slug, certificates: await listSmimeCertificates({ db: ctx.db, tenantId: tenant.id, kind }) };
      if (action === 'remove')
        return {
          tenant: tenant.slug,
          ...(await removeSmimeCertificate({
            db: ctx.db,
            tenantId: tenant.id,
            kind,
            which: need(arg, 'address or fingerprint'),
            actor: 'cli',
          })),
        };
      if (action === 'add' && kind !== 'signing') {
        const file = readFile(arg, 'certificate');
        const { parseCapabilityNames } = await import('../lib/smime/smime-capabilities');
        if (values.capabilities !== undefined && kind !== 'recipient')
          throw new ConfigError("--capabilities is for a correspondent's certificate (smime cert add)");
        const capabilities = values.capabilities === undefined ? null : parseCapabilityNames({ text: values.capabilities });
        return {
          tenant: tenant.slug,
          ...(await addSmimeCertificate({
            db: ctx.db,
            tenantId: tenant.id,
            kind,
            file,
            address: values.address,
            capabilities,
            actor: 'cli',
          })),
        };
      }
      throw new ConfigError(
        `unknown action "${action ?? ''}": use ${kind === 'signing' ? 'list or remove (and `smime import` to add)' : 'add, list or remove'}`,
      );
    },
  };
}
