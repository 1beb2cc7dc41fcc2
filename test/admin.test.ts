import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_IDLE_MS,
  ADMIN_MAX_MS,
  ADMIN_REVERIFY_MS,
  createAdminSession,
  endAdminSession,
  purgeAdminSessions,
  readAdminSession,
} from '@/lib/admin/admin-session';
import { authorizeAdmin } from '@/lib/admin/authorize-admin';
import { findLiveInvitation } from '@/lib/admin/find-invitation';
import { INVITATION_TTL_MS, inviteAdmin } from '@/lib/admin/invite-admin';
import { listAdminMessages, MESSAGES_PAGE_SIZE } from '@/lib/admin/list-admin-messages';
import { listAdmins } from '@/lib/admin/list-admins';
import { removeAdmin } from '@/lib/admin/remove-admin';
import { revokeAdminMessage } from '@/lib/admin/revoke-admin-message';
import { startPasskeyRegistration } from '@/lib/admin/start-passkey-registration';
import { finishPasskeyRegistration } from '@/lib/admin/finish-passkey-registration';
import { finishPasskeySignIn } from '@/lib/admin/finish-passkey-signin';
import { startPasskeySignIn } from '@/lib/admin/start-passkey-signin';
import { relyingParty } from '@/lib/admin/relying-party';
import { sendMessage } from '@/lib/messages/send-message';
import { recordAudit } from '@/lib/audit/record-audit';
import { EXPORT_PAGE_ROWS, exportAuditEvents } from '@/lib/admin/export-audit-events';
import { AUDIT_PAGE_SIZE, listAuditEvents } from '@/lib/admin/list-audit-events';
import { parse } from 'csv-parse/sync';
import { changeAdminRole } from '@/lib/admin/change-admin-role';
import { changeCredential } from '@/lib/admin/manage-credentials';
import { listTenantKeys } from '@/lib/admin/list-tenant-keys';
import { rotateTenantKey } from '@/lib/admin/rotate-tenant-key';
import { listApiKeys } from '@/lib/tenants/list-api-keys';
import { listPasskeys } from '@/lib/admin/list-passkeys';
import { removePasskey } from '@/lib/admin/remove-passkey';
import { limitAdminSignIn } from '@/lib/admin/limit-admin-signin';
import { RATE_LIMITS } from '@/lib/rate-limit/rate-limits';
import { brandingFromForm, brandingToForm } from '@/lib/admin/templates/branding-form';
import { contrastRatio, isContrastEnough } from '@/lib/admin/templates/contrast';
import { deleteAdminTemplate } from '@/lib/admin/templates/delete-admin-template';
import { previewBranding } from '@/lib/admin/templates/preview-branding';
import { LOGO_MAX_BYTES, readLogoUpload } from '@/lib/admin/templates/read-logo-upload';
import { saveTemplate } from '@/lib/admin/templates/save-template';
import { addRule } from '@/lib/rules/add-rule';
import { getAdminMessageOrThrow } from '@/lib/admin/get-admin-message';
import { connectorFormProblem, connectorInputFromForm } from '@/lib/admin/connectors/connector-form';
import { refusedRuleFormUrl, ruleFormProblems, ruleToForm } from '@/lib/admin/rules/rule-form';
import { runRuleTest } from '@/lib/admin/rules/run-rule-test';
import { saveAdminRule } from '@/lib/admin/rules/save-admin-rule';
import { addConnector } from '@/lib/connectors/add-connector';
import { listConnectors } from '@/lib/connectors/list-connectors';
import { removeConnector } from '@/lib/connectors/remove-connector';
import { revokeMessage } from '@/lib/envelope/revoke-message';
import { describeRule } from '@/lib/rules/describe-rule';
import { moveRule } from '@/lib/rules/move-rule';
import { removeRule } from '@/lib/rules/remove-rule';
import { loadRuleSet } from '@/lib/rules/rule-set-store';
import { setBranding } from '@/lib/templates/set-branding';
import { ZBranding } from '@/lib/templates/schema';
import type { TAdminRole } from '@/lib/store/schema';
import type { TTenant } from '@/lib/tenants/tenants';
import { changeIdentityProvider } from '@/lib/admin/manage-identity-providers';
import { startAdminOidcSignIn } from '@/lib/admin/start-admin-oidc-signin';
import { completeAdminOidcSignIn } from '@/lib/admin/complete-admin-oidc-signin';
import { judgeAdminIdentity } from '@/lib/auth/federated/admin-identity';
import { claimAtAuthHost, consumeHandoff, recordIdentity } from '@/lib/auth/federated/federated-signin';
import { listIdentityProviders } from '@/lib/auth/federated/tenant-identity-providers';
import { openBytes } from '@/lib/envelope/aead';
import { identityProviderSecretAad, identityProviderSecretKey } from '@/lib/auth/federated/identity-providers';
import { getTenantKey } from '@/lib/envelope/tenant-keys';
import { checkCustomDomain, customDomainTarget, type TDomainResolver } from '@/lib/tenants/check-custom-domain';
import { setCustomDomain } from '@/lib/tenants/set-custom-domain';
import { getTenantByHost } from '@/lib/tenants/get-tenant-by-host';
import { createTestContext, sampleEml, seedTenant, type TTestContext } from './helpers/context';
import { startOidcProvider, type TOidcProvider } from './helpers/oidc-provider';

// The admin console's lib functions on the store (SQLite and PostgreSQL): invitations, sessions,
// the one authorization check, the last owner, and the messages page's query.
let ctx: TTestContext;
let acme: TTenant;
let beta: TTenant;
beforeAll(async () => {
  ctx = await createTestContext();
  acme = await seedTenant(ctx);
  beta = await seedTenant(ctx);
});
afterAll(() => ctx?.close());

// An admin as a registration would leave one (the ceremony itself is proved in Chromium: e2e-admin).
async function addAdmin(tenant: TTenant, email: string, role: TAdminRole) {
  const id = crypto.randomUUID();
  await ctx.db
    .insertInto('admins')
    .values({
      id,
      tenant_id: tenant.id,
      email,
      role,
      webauthn_user_id: crypto.randomBytes(16).toString('base64url'),
      created_at: Date.now(),
    })
    .execute();
  return id;
}

// A tenant's audit events of one type, oldest first.
const events = (tenant: TTenant, type: string) =>
  ctx.db
    .selectFrom('audit_events')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .where('type', '=', type as never)
    .orderBy('id')
    .execute();

const tokenOf = (link: string) => link.split('/admin/invite/')[1]!;

describe('invitations', () => {
  it('prints a link on the tenant host; only a keyed hash of its secret is stored', async () => {
    const invited = await inviteAdmin({ ctx, tenant: acme, input: { email: 'Olivia@Acme.example', role: 'owner' }, actor: 'cli' });
    expect(invited.link).toMatch(new RegExp(`^http://${acme.slug}\\.localhost(:\\d+)?/admin/invite/[0-9a-f-]{36}\\.[A-Za-z0-9_-]{43}$`));
    expect(invited.email).toBe('olivia@acme.example');
    const secret = tokenOf(invited.link).split('.')[1]!;
    const rows = await ctx.db.selectFrom('admin_invitations').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(secret);
    const audit = await ctx.db.selectFrom('audit_events').selectAll().where('type', '=', 'admin_invited').execute();
    expect(audit.map((a) => a.actor)).toEqual(['cli']);
  });

  it('is found while live; not after 24 hours, not with a changed secret, not on another tenant', async () => {
    const now = Date.now();
    const { link } = await inviteAdmin({ ctx, tenant: acme, input: { email: 'pat@acme.example', role: 'auditor' }, actor: 'cli', now });
    const token = tokenOf(link);
    expect((await findLiveInvitation({ ctx, tenant: acme, token, now: now + INVITATION_TTL_MS - 1 }))?.email).toBe('pat@acme.example');
    expect(await findLiveInvitation({ ctx, tenant: acme, token, now: now + INVITATION_TTL_MS })).toBeNull();
    const changed = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(await findLiveInvitation({ ctx, tenant: acme, token: changed, now })).toBeNull();
    expect(await findLiveInvitation({ ctx, tenant: beta, token, now })).toBeNull();
  });

  it('refuses a bad address or role, and someone who is already an admin', async () => {
    await expect(inviteAdmin({ ctx, tenant: acme, input: { email: 'nope', role: 'owner' }, actor: 'cli' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(inviteAdmin({ ctx, tenant: acme, input: { email: 'x@acme.example', role: 'root' }, actor: 'cli' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await addAdmin(acme, 'already@acme.example', 'admin');
    await expect(
      inviteAdmin({ ctx, tenant: acme, input: { email: 'already@acme.example', role: 'owner' }, actor: 'cli' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('a registration answer that is no passkey spends nothing: the invitation still works', async () => {
    const { link } = await inviteAdmin({ ctx, tenant: acme, input: { email: 'quinn@acme.example', role: 'admin' }, actor: 'cli' });
    const token = tokenOf(link);
    const rp = relyingParty({ config: ctx.config, host: `${acme.slug}.localhost`, tenantName: acme.name });
    const { challengeId, options } = await startPasskeyRegistration({ ctx, tenant: acme, rp, from: { token } });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    const forged = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'e30', attestationObject: 'oA' },
      clientExtensionResults: {},
    };
    await expect(
      finishPasskeyRegistration({ ctx, tenant: acme, rp, challengeId, response: forged, from: { token } }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    // The challenge was consumed by the failed answer: replaying against it fails the same way.
    await expect(
      finishPasskeyRegistration({ ctx, tenant: acme, rp, challengeId, response: forged, from: { token } }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await findLiveInvitation({ ctx, tenant: acme, token })).not.toBeNull();
  });

  it('a sign-in answer from an unknown passkey is refused and audited as a failed sign-in', async () => {
    const rp = relyingParty({ config: ctx.config, host: `${acme.slug}.localhost`, tenantName: acme.name });
    const { challengeId } = await startPasskeySignIn({ ctx, tenant: acme, rp });
    const response = { id: 'unknown', rawId: 'unknown', type: 'public-key', response: {}, clientExtensionResults: {} };
    await expect(finishPasskeySignIn({ ctx, tenant: acme, rp, challengeId, response })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const failed = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', acme.id)
      .where('type', '=', 'admin_signin_failed')
      .execute();
    expect(failed.length).toBeGreaterThan(0);
  });
});

describe('admin sessions', () => {
  it('live 30 minutes idle and 8 hours at most; a sign-out ends them on the server', async () => {
    const adminId = await addAdmin(acme, `s-${crypto.randomUUID()}@acme.example`, 'admin');
    const now = Date.now();
    const { value } = await createAdminSession({ ctx, tenant: acme, adminId, now });
    const at = async (t: number) => (await readAdminSession({ ctx, tenant: acme, value, now: t })).kind;
    expect(await at(now + ADMIN_IDLE_MS - 1)).toBe('ok');
    // Kept busy (every 20 minutes) it still ends 8 hours after sign-in.
    for (let t = now + 20 * 60_000; t < now + ADMIN_MAX_MS; t += 20 * 60_000) expect(await at(t)).toBe('ok');
    expect(await at(now + ADMIN_MAX_MS)).toBe('none');
    const idle = await createAdminSession({ ctx, tenant: acme, adminId, now });
    expect((await readAdminSession({ ctx, tenant: acme, value: idle.value, now: now + ADMIN_IDLE_MS + 1 })).kind).toBe('none');
    const ended = await createAdminSession({ ctx, tenant: acme, adminId });
    const state = await readAdminSession({ ctx, tenant: acme, value: ended.value });
    if (state.kind !== 'ok') throw new Error('expected a session');
    await endAdminSession({ ctx, tenant: acme, session: state.session });
    expect((await readAdminSession({ ctx, tenant: acme, value: ended.value })).kind).toBe('none');
  });

  it('housekeeping deletes sessions past their 8 hours and ceremonies past their minutes, nothing live', async () => {
    const tenant = await seedTenant(ctx);
    const adminId = await addAdmin(tenant, 'hk@h.example', 'admin');
    const now = Date.now();
    const old = await createAdminSession({ ctx, tenant, adminId, now: now - ADMIN_MAX_MS - 1 });
    const live = await createAdminSession({ ctx, tenant, adminId, now });
    const rp = relyingParty({ config: ctx.config, host: `${tenant.slug}.localhost`, tenantName: tenant.name });
    await startPasskeySignIn({ ctx, tenant, rp, now: now - 10 * 60_000 });
    const { challengeId } = await startPasskeySignIn({ ctx, tenant, rp, now });
    expect(await purgeAdminSessions(ctx.db, now)).toBeGreaterThanOrEqual(1);
    const ids = (await ctx.db.selectFrom('admin_sessions').select('id').where('tenant_id', '=', tenant.id).execute()).map((r) => r.id);
    expect(ids).toEqual([live.value.split('.')[0]]);
    expect(ids).not.toContain(old.value.split('.')[0]);
    const challenges = await ctx.db.selectFrom('admin_challenges').select('id').where('tenant_id', '=', tenant.id).execute();
    expect(challenges.map((c) => c.id)).toEqual([challengeId]);
  });

  it("another tenant's session is 'foreign'; a changed or recipient-shaped cookie is none; nothing secret is stored", async () => {
    const adminId = await addAdmin(acme, `f-${crypto.randomUUID()}@acme.example`, 'owner');
    const { value } = await createAdminSession({ ctx, tenant: acme, adminId });
    expect((await readAdminSession({ ctx, tenant: beta, value })).kind).toBe('foreign');
    expect((await readAdminSession({ ctx, tenant: acme, value: `${value.slice(0, -2)}AA` })).kind).toBe('none');
    expect((await readAdminSession({ ctx, tenant: acme, value: 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..x.y.z' })).kind).toBe('none');
    const rows = await ctx.db.selectFrom('admin_sessions').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(value.split('.')[1]);
  });
});

describe('authorizeAdmin: the one check', () => {
  const ROLES: TAdminRole[] = ['auditor', 'admin', 'owner'];
  const TABLE = ROLES.flatMap((has) => ROLES.map((needs) => ({ has, needs, allowed: ROLES.indexOf(has) >= ROLES.indexOf(needs) })));

  it.each(TABLE)('a $has asking for $needs: allowed=$allowed', async ({ has, needs, allowed }) => {
    const adminId = await addAdmin(acme, `${has}-${crypto.randomUUID()}@acme.example`, has);
    const { value } = await createAdminSession({ ctx, tenant: acme, adminId });
    const outcome = authorizeAdmin({ ctx, tenant: acme, cookie: value, access: { role: needs } });
    if (allowed) expect((await outcome).kind).toBe('ok');
    else await expect(outcome).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('no session: 401; another tenant: 404; a sensitive action 5 minutes after the passkey: re-verify', async () => {
    await expect(authorizeAdmin({ ctx, tenant: acme, cookie: undefined, access: { role: 'auditor' } })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    const adminId = await addAdmin(acme, `r-${crypto.randomUUID()}@acme.example`, 'owner');
    const now = Date.now();
    const { value } = await createAdminSession({ ctx, tenant: acme, adminId, now });
    await expect(authorizeAdmin({ ctx, tenant: beta, cookie: value, access: { role: 'auditor' } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const sensitive = { role: 'admin', isSensitive: true } as const;
    expect((await authorizeAdmin({ ctx, tenant: acme, cookie: value, access: sensitive, now: now + ADMIN_REVERIFY_MS })).kind).toBe('ok');
    expect((await authorizeAdmin({ ctx, tenant: acme, cookie: value, access: sensitive, now: now + ADMIN_REVERIFY_MS + 1 })).kind).toBe(
      'reverify',
    );
  });
});

describe('admins', () => {
  it('the last owner cannot be removed; another owner can; removal ends their sessions and is audited', async () => {
    const tenant = await seedTenant(ctx);
    const first = await addAdmin(tenant, 'first@x.example', 'owner');
    await expect(removeAdmin({ db: ctx.db, tenantId: tenant.id, email: 'first@x.example', actor: 'cli' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await addAdmin(tenant, 'second@x.example', 'owner');
    const { value } = await createAdminSession({ ctx, tenant, adminId: first });
    await removeAdmin({ db: ctx.db, tenantId: tenant.id, email: 'FIRST@x.example', actor: 'admin:second@x.example' });
    expect((await readAdminSession({ ctx, tenant, value })).kind).toBe('none');
    expect((await listAdmins({ db: ctx.db, tenantId: tenant.id })).map((a) => a.email)).toEqual(['second@x.example']);
    const event = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('type', '=', 'admin_removed')
      .executeTakeFirstOrThrow();
    expect(event.actor).toBe('admin:second@x.example');
    expect(JSON.parse(event.data!)).toMatchObject({ email: 'first@x.example', before: JSON.stringify({ role: 'owner' }), after: null });
    await expect(removeAdmin({ db: ctx.db, tenantId: tenant.id, email: 'second@x.example', actor: 'cli' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});

describe('the messages page', () => {
  it('pages by keyset with no row twice or missed, filters by sender, recipient and date, and shows no content', async () => {
    const tenant = await seedTenant(ctx);
    const total = MESSAGES_PAGE_SIZE + 7;
    // Noon, 25 days ago: three messages a day (well inside any expiry).
    const base = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 25 * 86_400_000 + 12 * 3_600_000;
    const secondDay = new Date(base + 86_400_000).toISOString().slice(0, 10);
    for (let i = 0; i < total; i += 1) {
      await sendMessage({
        ctx,
        tenant,
        raw: sampleEml({
          to: [i % 2 ? 'odd@gmail.com' : 'even@gmail.com'],
          from: `Alice <alice@${tenant.mail_domain}>`,
          attachment: false,
        }),
        deliver: false,
        now: base + Math.floor(i / 3) * 24 * 60 * 60_000,
      });
    }
    const first = await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: {} });
    expect(first.items).toHaveLength(MESSAGES_PAGE_SIZE);
    expect(first.nextAfter).not.toBeNull();
    const second = await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: { after: first.nextAfter! } });
    expect(second.items).toHaveLength(7);
    expect(second.nextAfter).toBeNull();
    const ids = [...first.items, ...second.items].map((m) => m.id);
    expect(new Set(ids).size).toBe(total);
    const times = [...first.items, ...second.items].map((m) => m.createdAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const odd = await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: { recipient: 'odd@gmail.com' } });
    expect(odd.items.length).toBe(Math.floor(total / 2));
    expect(odd.items.every((m) => m.recipients.join() === 'odd@gmail.com')).toBe(true);
    const day = await listAdminMessages({
      db: ctx.db,
      master: ctx.master,
      tenantId: tenant.id,
      search: { from: secondDay, to: secondDay },
    });
    expect(day.items).toHaveLength(3);
    expect(
      (await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: { sender: 'ALICE@' } })).items.length,
    ).toBe(MESSAGES_PAGE_SIZE);
    expect((await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: { sender: 'mallory' } })).items).toEqual(
      [],
    );
    // Metadata only: the subject (the default template shows it), never the body.
    expect(JSON.stringify(first.items)).not.toMatch(/secret body|12345678/);
    expect(first.items[0]!.subject).toBe('Your statement');
    expect(first.items[0]).toMatchObject({ state: 'active', views: 0, sender: `alice@${tenant.mail_domain}` });
  });

  it("revokes this tenant's message in the admin's name, and refuses another tenant's as unknown", async () => {
    const { messageId } = await sendMessage({ ctx, tenant: acme, raw: sampleEml(), deliver: false });
    const adminId = await addAdmin(beta, `b-${crypto.randomUUID()}@beta.example`, 'owner');
    const state = await readAdminSession({ ctx, tenant: beta, value: (await createAdminSession({ ctx, tenant: beta, adminId })).value });
    if (state.kind !== 'ok') throw new Error('expected a session');
    await expect(
      revokeAdminMessage({ db: ctx.db, master: ctx.master, tenantId: beta.id, messageId, session: state.session }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const ownId = await addAdmin(acme, `a-${crypto.randomUUID()}@acme.example`, 'admin');
    const own = await readAdminSession({
      ctx,
      tenant: acme,
      value: (await createAdminSession({ ctx, tenant: acme, adminId: ownId })).value,
    });
    if (own.kind !== 'ok') throw new Error('expected a session');
    await revokeAdminMessage({ db: ctx.db, master: ctx.master, tenantId: acme.id, messageId, session: own.session });
    const page = await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: acme.id, search: {} });
    expect(page.items.find((m) => m.id === messageId)?.state).toBe('revoked');
    const event = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('message_id', '=', messageId)
      .where('type', '=', 'revoked')
      .executeTakeFirstOrThrow();
    expect(event.actor).toBe(`admin:${own.session.admin.email}`);
  });
});

describe('the audit log', () => {
  it('pages by keyset and filters by event, address, message and date', async () => {
    const tenant = await seedTenant(ctx);
    const messageId = crypto.randomUUID();
    const day = Date.parse('2026-10-10T10:00:00Z');
    for (let i = 0; i < AUDIT_PAGE_SIZE + 5; i += 1) {
      await recordAudit(ctx.db, {
        tenantId: tenant.id,
        messageId: i % 5 === 0 ? messageId : null,
        type: i % 2 ? 'viewed' : 'passcode_sent',
        actor: i % 3 ? 'bob@gmail.com' : 'admin:olivia@x.example',
        at: day + (i < 10 ? 0 : 86_400_000),
      });
    }
    const first = await listAuditEvents({ db: ctx.db, tenantId: tenant.id, search: {} });
    const second = await listAuditEvents({ db: ctx.db, tenantId: tenant.id, search: { after: first.nextAfter! } });
    expect([first.items.length, second.items.length, second.nextAfter]).toEqual([AUDIT_PAGE_SIZE, 5, null]);
    expect(new Set([...first.items, ...second.items].map((e) => e.id)).size).toBe(AUDIT_PAGE_SIZE + 5);
    const all = [...first.items, ...second.items];
    const count = async (search: Parameters<typeof listAuditEvents>[0]['search']) =>
      (await listAuditEvents({ db: ctx.db, tenantId: tenant.id, search })).items.length;
    expect(await count({ type: 'viewed' })).toBe(all.filter((e) => e.type === 'viewed').length);
    expect(await count({ address: 'Olivia@x.example' })).toBe(all.filter((e) => e.actor === 'admin:olivia@x.example').length);
    expect(await count({ message: messageId })).toBe(all.filter((e) => e.messageId === messageId).length);
    expect(await count({ from: '2026-10-10', to: '2026-10-10' })).toBe(10);
    // Another tenant's events never show.
    expect((await listAuditEvents({ db: ctx.db, tenantId: beta.id, search: { message: messageId } })).items).toEqual([]);
  });

  it('exports CSV and JSON Lines a page of rows at a time; both parse, with every row once', async () => {
    const tenant = await seedTenant(ctx);
    const total = EXPORT_PAGE_ROWS * 2 + 3;
    await ctx.db
      .insertInto('audit_events')
      .values(
        Array.from({ length: total }, (_, i) => ({
          tenant_id: tenant.id,
          message_id: null,
          type: 'viewed',
          // An outsider's text a spreadsheet would run as a formula stays text.
          actor: i === 0 ? '=HYPERLINK("http://evil.example")' : `r${i}@example.org`,
          data: JSON.stringify({ n: i, note: 'comma, "quote"\nline' }),
          at: Date.now(),
        })),
      )
      .execute();
    const csvChunks: string[] = [];
    for await (const chunk of exportAuditEvents({ db: ctx.db, tenantId: tenant.id, search: {}, format: 'csv' })) csvChunks.push(chunk);
    // The header, then one chunk per page of rows: never the whole log at once.
    expect(csvChunks).toHaveLength(1 + 3);
    const rows = parse(csvChunks.join(''), { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(total);
    expect(rows.find((r) => r.actor!.includes('HYPERLINK'))!.actor).toBe('\'=HYPERLINK("http://evil.example")');
    expect(JSON.parse(rows.find((r) => r.actor === 'r1@example.org')!.data!)).toEqual({ n: 1, note: 'comma, "quote"\nline' });
    const lines: string[] = [];
    for await (const chunk of exportAuditEvents({ db: ctx.db, tenantId: tenant.id, search: {}, format: 'jsonl' })) lines.push(chunk);
    const records = lines
      .join('')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(total);
    expect(new Set(records.map((r) => r.id)).size).toBe(total);
  });
});

describe('roles, keys and credentials', () => {
  it('changes a role with before/after in the audit; the last owner stays an owner', async () => {
    const tenant = await seedTenant(ctx);
    await addAdmin(tenant, 'own@y.example', 'owner');
    await addAdmin(tenant, 'aud@y.example', 'auditor');
    await expect(
      changeAdminRole({ db: ctx.db, tenantId: tenant.id, email: 'own@y.example', role: 'admin', actor: 'cli' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(
      changeAdminRole({ db: ctx.db, tenantId: tenant.id, email: 'aud@y.example', role: 'root', actor: 'cli' }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await changeAdminRole({ db: ctx.db, tenantId: tenant.id, email: 'aud@y.example', role: 'owner', actor: 'admin:own@y.example' });
    await changeAdminRole({ db: ctx.db, tenantId: tenant.id, email: 'own@y.example', role: 'auditor', actor: 'admin:aud@y.example' });
    expect((await listAdmins({ db: ctx.db, tenantId: tenant.id })).map((a) => [a.email, a.role])).toEqual([
      ['aud@y.example', 'owner'],
      ['own@y.example', 'auditor'],
    ]);
    const events = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('type', '=', 'admin_role_changed')
      .orderBy('id')
      .execute();
    expect(events.map((e) => [e.actor, JSON.parse(e.data!).before, JSON.parse(e.data!).after])).toEqual([
      ['admin:own@y.example', '{"role":"auditor"}', '{"role":"owner"}'],
      ['admin:aud@y.example', '{"role":"owner"}', '{"role":"auditor"}'],
    ]);
  });

  it('rotates the tenant key (a new current version, audited) and lists versions without keys', async () => {
    const tenant = await seedTenant(ctx);
    const { version } = await rotateTenantKey({ ctx, tenantId: tenant.id, actor: 'admin:o@z.example' });
    const keys = await listTenantKeys({ db: ctx.db, tenantId: tenant.id });
    expect(keys.map((k) => [k.version, k.isCurrent])).toEqual([
      [version, true],
      [version - 1, false],
    ]);
    expect(JSON.stringify(keys)).not.toContain('wrapped');
    const event = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('type', '=', 'key_rotated')
      .executeTakeFirstOrThrow();
    expect(event.actor).toBe('admin:o@z.example');
  });

  it('creates API keys and relay credentials (the secret returned once, in no audit event) and revokes them', async () => {
    const tenant = await seedTenant(ctx);
    const actor = 'admin:o@z.example';
    const key = await changeCredential({ db: ctx.db, tenant, change: { kind: 'createApiKey', label: 'Payroll' }, actor });
    const relay = await changeCredential({ db: ctx.db, tenant, change: { kind: 'createRelayCredential' }, actor });
    const [listed] = await listApiKeys({ db: ctx.db, tenantId: tenant.id });
    expect(listed).toMatchObject({ name: 'Payroll', isRevoked: false, lastUsedAt: null });
    await changeCredential({ db: ctx.db, tenant, change: { kind: 'revokeApiKey', id: listed!.id }, actor });
    await changeCredential({ db: ctx.db, tenant, change: { kind: 'revokeRelayCredential', username: relay!.name }, actor });
    await expect(changeCredential({ db: ctx.db, tenant, change: { kind: 'revokeApiKey', id: listed!.id }, actor })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await listApiKeys({ db: ctx.db, tenantId: tenant.id }))[0]!.isRevoked).toBe(true);
    // Another tenant cannot revoke this one's key by its id.
    const other = await changeCredential({ db: ctx.db, tenant, change: { kind: 'createApiKey', label: 'Other' }, actor });
    const otherId = (await listApiKeys({ db: ctx.db, tenantId: tenant.id })).find((k) => k.name === 'Other')!.id;
    await expect(
      changeCredential({ db: ctx.db, tenant: beta, change: { kind: 'revokeApiKey', id: otherId }, actor }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const events = await ctx.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenant.id).execute();
    expect(events.map((e) => e.type).sort()).toEqual(
      ['api_key_created', 'api_key_created', 'api_key_revoked', 'relay_credential_created', 'relay_credential_revoked'].sort(),
    );
    for (const secret of [key!.secret, relay!.secret, other!.secret]) expect(JSON.stringify(events)).not.toContain(secret);
  });
});

describe('passkeys', () => {
  it("an admin removes their own passkeys but never the last, and nobody else's", async () => {
    const tenant = await seedTenant(ctx);
    const ownerId = await addAdmin(tenant, 'pk@p.example', 'owner');
    const otherId = await addAdmin(tenant, 'other@p.example', 'admin');
    const add = (adminId: string, label: string) =>
      ctx.db
        .insertInto('admin_passkeys')
        .values({
          id: crypto.randomUUID(),
          admin_id: adminId,
          credential_id: crypto.randomBytes(16).toString('base64url'),
          public_key: 'x',
          counter: 0,
          transports: '[]',
          label,
          created_at: Date.now(),
          last_used_at: null,
        })
        .execute();
    await add(ownerId, 'Phone');
    await add(ownerId, 'Laptop');
    await add(otherId, 'Theirs');
    const owner = await ctx.db.selectFrom('admins').selectAll().where('id', '=', ownerId).executeTakeFirstOrThrow();
    const [phone, laptop] = await listPasskeys({ db: ctx.db, adminId: ownerId });
    const [theirs] = await listPasskeys({ db: ctx.db, adminId: otherId });
    await expect(removePasskey({ db: ctx.db, admin: owner, passkeyId: theirs!.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await removePasskey({ db: ctx.db, admin: owner, passkeyId: phone!.id });
    await expect(removePasskey({ db: ctx.db, admin: owner, passkeyId: laptop!.id })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await listPasskeys({ db: ctx.db, adminId: ownerId })).map((p) => p.label)).toEqual(['Laptop']);
    expect((await listPasskeys({ db: ctx.db, adminId: otherId })).map((p) => p.label)).toEqual(['Theirs']);
  });
});

describe('sign-in attempts', () => {
  it('are limited per address and tenant by the policy table (adminSignInPerIp)', async () => {
    const tenant = await seedTenant(ctx);
    const now = Date.now();
    for (let i = 0; i < RATE_LIMITS.adminSignInPerIp.max; i += 1)
      await limitAdminSignIn({ db: ctx.db, tenantId: tenant.id, ip: '203.0.113.9', now });
    await expect(limitAdminSignIn({ db: ctx.db, tenantId: tenant.id, ip: '203.0.113.9', now })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    // Another address, or the same address on another tenant, still has its own room.
    await limitAdminSignIn({ db: ctx.db, tenantId: tenant.id, ip: '203.0.113.10', now });
    await limitAdminSignIn({ db: ctx.db, tenantId: beta.id, ip: '203.0.113.9', now });
    // And the window passes.
    await limitAdminSignIn({ db: ctx.db, tenantId: tenant.id, ip: '203.0.113.9', now: now + RATE_LIMITS.adminSignInPerIp.windowMs + 1 });
  });
});

describe('branding templates', () => {
  const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

  it.each([
    { name: 'PNG', bytes: PNG, ok: 'data:image/png;base64,' },
    { name: 'JPEG', bytes: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), ok: 'data:image/jpeg;base64,' },
    { name: 'WebP', bytes: Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]), ok: 'data:image/webp;base64,' },
    { name: 'HTML named logo.png', bytes: Buffer.from('<html><script>alert(1)</script></html>'), ok: null },
    { name: 'SVG', bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), ok: null },
    { name: 'a PNG over 100 KB', bytes: Buffer.concat([PNG, Buffer.alloc(LOGO_MAX_BYTES)]), ok: null },
  ])('logo upload: $name', ({ bytes, ok }) => {
    if (ok) expect(readLogoUpload({ bytes })).toMatch(new RegExp(`^${ok.replaceAll('+', '\\+')}`));
    else expect(() => readLogoUpload({ bytes })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it.each([
    { text: '#ffffff', background: '#1f4e79', enough: true },
    { text: '#ffffff', background: '#ffff00', enough: false },
    { text: '#000000', background: '#ffffff', enough: true },
    { text: '#777777', background: '#ffffff', enough: false },
  ])('contrast $text on $background: AA=$enough', ({ text, background, enough }) => {
    expect(isContrastEnough(text, background)).toBe(enough);
  });

  it("contrast ratios are WCAG's (21 for black on white, 1 for a colour on itself)", () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#1f4e79', '#1f4e79')).toBeCloseTo(1, 5);
  });

  it('the form round-trips every field; hostile text stays text, a javascript: URL is refused', () => {
    const form = new URLSearchParams(
      brandingToForm(
        ZBranding.parse({
          look: {
            displayName: 'Legal',
            disclaimer: '<script>x</script>',
            privacyUrl: 'https://acme.example/privacy',
            hideSubject: true,
            primaryColour: '#5b1a1a',
          },
          policy: { allowForward: true, expiryDays: 30, signInMethods: { passcode: true, microsoft: false, google: false, oidc: [] } },
        }),
      ),
    );
    const draft = previewBranding({ query: form, stored: null });
    if (draft.kind !== 'ok') throw new Error(draft.problems.join());
    expect(draft.branding.look).toMatchObject({
      displayName: 'Legal',
      disclaimer: '<script>x</script>',
      hideSubject: true,
      primaryColour: '#5b1a1a',
    });
    expect(draft.branding.policy).toMatchObject({
      allowForward: true,
      expiryDays: 30,
      signInMethods: { passcode: true, microsoft: false, google: false },
    });
    form.set('privacyUrl', 'javascript:alert(1)');
    const refused = previewBranding({ query: form, stored: null });
    expect(refused.kind === 'invalid' && refused.problems.join()).toContain('privacyUrl');
    expect(brandingFromForm({ form: new URLSearchParams('expiryDays=abc'), logo: undefined }).policy.expiryDays).toBe('abc');
  });

  it.each([
    [
      'every policy field away from its default',
      {
        allowForward: true,
        restrictions: 'do-not-forward',
        signInMethods: { passcode: false, microsoft: true, google: false, oidc: ['corp'] },
        expiryDays: 14,
        delivery: { link: true, attachment: false },
        smime: 'encrypt-when-possible',
        replyToReader: false,
      },
    ],
    ['the defaults', {}],
    ['S/MIME signing only', { smime: 'sign' }],
  ])('the form keeps %s: saving a template in the console changes no policy it does not show', (_, policy) => {
    // A field the form leaves out would be reset to its default by every save (S/MIME was).
    const stored = ZBranding.parse({ look: {}, policy });
    const form = new URLSearchParams(brandingToForm(stored));
    const draft = previewBranding({ query: form, stored: null });
    if (draft.kind !== 'ok') throw new Error(draft.problems.join());
    expect(draft.branding.policy).toEqual(stored.policy);
  });

  it('saves with before/after in the audit (a logo only as "(set)"); deletes only what no rule names', async () => {
    const tenant = await seedTenant(ctx);
    const logo = readLogoUpload({ bytes: PNG });
    await saveTemplate({
      db: ctx.db,
      tenantId: tenant.id,
      template: 'legal',
      input: { look: { disclaimer: 'one', logo } },
      actor: 'admin:a@x.example',
    });
    await saveTemplate({
      db: ctx.db,
      tenantId: tenant.id,
      template: 'legal',
      input: { look: { disclaimer: 'two', logo } },
      actor: 'admin:b@x.example',
    });
    const events = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('type', '=', 'template_saved')
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.actor)).toEqual(['admin:a@x.example', 'admin:b@x.example']);
    const last = JSON.parse(events[1]!.data!);
    expect(JSON.parse(last.before).look).toMatchObject({ disclaimer: 'one', logo: '(set)' });
    expect(JSON.parse(last.after).look).toMatchObject({ disclaimer: 'two', logo: '(set)' });
    expect(events[1]!.data).not.toContain('base64');
    await addRule({
      db: ctx.db,
      tenantId: tenant.id,
      input: { name: 'to-legal', conditions: [], action: { kind: 'encrypt', template: 'legal' } },
    });
    await expect(deleteAdminTemplate({ db: ctx.db, tenantId: tenant.id, template: 'legal', actor: 'cli' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(deleteAdminTemplate({ db: ctx.db, tenantId: tenant.id, template: 'default', actor: 'cli' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await saveTemplate({ db: ctx.db, tenantId: tenant.id, template: 'spare', input: {}, actor: 'cli' });
    await deleteAdminTemplate({ db: ctx.db, tenantId: tenant.id, template: 'spare', actor: 'admin:a@x.example' });
    const deleted = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('type', '=', 'template_deleted')
      .execute();
    expect(deleted.map((e) => e.actor)).toEqual(['admin:a@x.example']);
  });
});

describe('identity providers from the console', () => {
  let idp: TOidcProvider;
  beforeAll(async () => {
    idp = await startOidcProvider({
      client: { clientId: 'console', clientSecret: 'console-secret', redirectUris: ['http://auth.localhost/cb'] },
      accounts: {},
    });
  });
  afterAll(() => idp?.close());
  const input = (name: string, extra: object = {}) => ({
    name,
    displayName: 'Corp SSO',
    issuer: idp.issuer,
    clientId: 'console',
    clientSecret: 'console-secret',
    ...extra,
  });

  it('adds after the discovery check (secret sealed, never in the audit), opens it to admins (owner only), removes; all audited', async () => {
    const tenant = await seedTenant(ctx);
    const owner = { email: 'o@x.example', role: 'owner' as const };
    const admin = { email: 'a@x.example', role: 'admin' as const };
    // An admin may add a provider for readers, but only an owner opens the console to one.
    await expect(
      changeIdentityProvider({ ctx, tenant, change: { kind: 'add', input: input('corp', { forAdmins: true }) }, admin }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await changeIdentityProvider({ ctx, tenant, change: { kind: 'add', input: input('corp') }, admin });
    // The discovery check runs before anything is saved: a wrong issuer saves nothing.
    await expect(
      changeIdentityProvider({ ctx, tenant, change: { kind: 'add', input: input('down', { issuer: 'http://127.0.0.1:9/idp' }) }, admin }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { reason: 'discovery' } });
    await expect(changeIdentityProvider({ ctx, tenant, change: { kind: 'add', input: input('corp') }, admin })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect((await listIdentityProviders({ ctx, tenant })).map((p) => [p.name, p.forAdmins])).toEqual([['corp', false]]);
    const row = await ctx.db.selectFrom('identity_providers').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow();
    expect(row.client_secret.toString('latin1')).not.toContain('console-secret');
    const key = await getTenantKey({ db: ctx.db, master: ctx.master, tenantId: tenant.id, version: row.key_version });
    expect(
      openBytes({
        key: identityProviderSecretKey(key.key),
        sealed: row.client_secret,
        aad: identityProviderSecretAad(tenant.id, row.id),
      }).toString(),
    ).toBe('console-secret');

    await expect(
      changeIdentityProvider({ ctx, tenant, change: { kind: 'setForAdmins', name: 'corp', forAdmins: true }, admin }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await changeIdentityProvider({ ctx, tenant, change: { kind: 'setForAdmins', name: 'corp', forAdmins: true }, admin: owner });
    expect((await listIdentityProviders({ ctx, tenant }))[0]!.forAdmins).toBe(true);
    await expect(changeIdentityProvider({ ctx, tenant, change: { kind: 'remove', name: 'nope' }, admin })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await changeIdentityProvider({ ctx, tenant, change: { kind: 'remove', name: 'corp' }, admin });
    expect(await listIdentityProviders({ ctx, tenant })).toEqual([]);

    const added = await events(tenant, 'identity_provider_added');
    expect(added.map((e) => e.actor)).toEqual(['admin:a@x.example']);
    expect(JSON.parse(JSON.parse(added[0]!.data!).after)).toMatchObject({
      name: 'corp',
      issuer: idp.issuer,
      clientId: 'console',
      forAdmins: false,
    });
    const changed = await events(tenant, 'identity_provider_changed');
    expect(changed.map((e) => e.actor)).toEqual(['admin:o@x.example']);
    expect(JSON.parse(JSON.parse(changed[0]!.data!).before).forAdmins).toBe(false);
    expect(JSON.parse(JSON.parse(changed[0]!.data!).after).forAdmins).toBe(true);
    const removed = await events(tenant, 'identity_provider_removed');
    expect(JSON.parse(removed[0]!.data!)).toMatchObject({ after: null });
    expect(JSON.parse(JSON.parse(removed[0]!.data!).before)).toMatchObject({ name: 'corp', forAdmins: true });
    const all = await ctx.db.selectFrom('audit_events').select('data').where('tenant_id', '=', tenant.id).execute();
    expect(JSON.stringify(all)).not.toContain('console-secret');
  });

  it("an admin's sign-in: only a provider opened to admins, only a verified admin address; the hand-off is an admin's only", async () => {
    const tenant = await seedTenant(ctx);
    await addAdmin(tenant, 'olivia@x.example', 'owner');
    await changeIdentityProvider({
      ctx,
      tenant,
      change: { kind: 'add', input: input('staff') },
      admin: { email: 'o@x.example', role: 'owner' },
    });
    const providerId = `oidc-${tenant.slug}-staff`;
    const start = () =>
      startAdminOidcSignIn({
        ctx,
        tenant,
        providerId,
        host: 'acme.localhost:3000',
        next: '/admin/keys',
        session: null,
        isReverify: false,
        ip: '192.0.2.7',
      });
    // Not opened to admins yet: refused before anything is recorded.
    await expect(start()).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await changeIdentityProvider({
      ctx,
      tenant,
      change: { kind: 'setForAdmins', name: 'staff', forAdmins: true },
      admin: { email: 'o@x.example', role: 'owner' },
    });
    const forAdmins = { forAdmins: true };
    expect(
      await judgeAdminIdentity({
        db: ctx.db,
        tenantId: tenant.id,
        provider: forAdmins,
        claims: { email: 'olivia@x.example', email_verified: true },
      }),
    ).toEqual({
      outcome: 'ok',
      address: 'olivia@x.example',
    });
    // email_verified must be exactly true; a verified address that is no admin's is not one.
    for (const claims of [{ email: 'olivia@x.example' }, { email: 'olivia@x.example', email_verified: 'true' }])
      expect((await judgeAdminIdentity({ db: ctx.db, tenantId: tenant.id, provider: forAdmins, claims })).outcome).toBe('unverified');
    expect(
      (
        await judgeAdminIdentity({
          db: ctx.db,
          tenantId: tenant.id,
          provider: forAdmins,
          claims: { email: 'eve@x.example', email_verified: true },
        })
      ).outcome,
    ).toBe('not_admin');
    expect(
      (
        await judgeAdminIdentity({
          db: ctx.db,
          tenantId: tenant.id,
          provider: { forAdmins: false },
          claims: { email: 'olivia@x.example', email_verified: true },
        })
      ).outcome,
    ).toBe('not_admin');

    // Through the auth host's steps to the hand-off, as the routes take them.
    const signInAs = async (outcome: 'ok' | 'not_admin' | 'unverified', address: string) => {
      const started = await start();
      const claimed = await claimAtAuthHost({ ctx, id: started.id });
      const handoff = await recordIdentity({ ctx, signIn: claimed.signIn, outcome, address });
      return { id: started.id, handoff, cookieValue: started.cookieValue };
    };
    const ok = await signInAs('ok', 'olivia@x.example');
    // A recipient's hand-off taker never takes an admin's.
    await expect(consumeHandoff({ ctx, tenant, purpose: 'recipient', ...ok })).rejects.toMatchObject({ code: 'ENVELOPE_INVALID' });
    // Another browser (no binding cookie) cannot take it either.
    expect(await completeAdminOidcSignIn({ ctx, tenant, id: ok.id, handoff: ok.handoff, cookieValue: undefined })).toEqual({
      kind: 'refused',
      reason: 'unusable',
    });
    const done = await completeAdminOidcSignIn({ ctx, tenant, ...ok });
    expect(done).toMatchObject({ kind: 'session', next: '/admin/keys' });
    const state = await readAdminSession({ ctx, tenant, value: done.kind === 'session' ? done.cookie.value : '' });
    expect(state.kind === 'ok' && state.session.admin.email).toBe('olivia@x.example');
    // Once only.
    expect((await completeAdminOidcSignIn({ ctx, tenant, ...ok })).kind).toBe('refused');

    const stranger = await signInAs('not_admin', 'eve@x.example');
    expect(await completeAdminOidcSignIn({ ctx, tenant, ...stranger })).toEqual({ kind: 'refused', reason: 'not_admin' });
    const unverified = await signInAs('unverified', 'olivia@x.example');
    expect(await completeAdminOidcSignIn({ ctx, tenant, ...unverified })).toEqual({ kind: 'refused', reason: 'unverified' });

    const signIns = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('type', 'in', ['admin_signin_ok', 'admin_signin_failed'])
      .orderBy('id')
      .execute();
    expect(signIns.map((e) => [e.type, e.actor, JSON.parse(e.data!).method, JSON.parse(e.data!).reason])).toEqual([
      ['admin_signin_ok', 'admin:olivia@x.example', 'oidc', undefined],
      ['admin_signin_failed', null, 'oidc', 'not_admin'],
      ['admin_signin_failed', null, 'oidc', 'unverified'],
    ]);
    expect(JSON.parse(signIns[1]!.data!)).toMatchObject({ provider: providerId, address: 'eve@x.example' });
  });

  it('a re-verification through the provider replaces the session it came from', async () => {
    const tenant = await seedTenant(ctx);
    const adminId = await addAdmin(tenant, 'rita@x.example', 'admin');
    await changeIdentityProvider({
      ctx,
      tenant,
      change: { kind: 'add', input: input('staff', { forAdmins: true }) },
      admin: { email: 'o@x.example', role: 'owner' },
    });
    const old = await createAdminSession({ ctx, tenant, adminId, now: Date.now() - ADMIN_REVERIFY_MS - 60_000 });
    const oldState = await readAdminSession({ ctx, tenant, value: old.value });
    if (oldState.kind !== 'ok') throw new Error('no session');
    const started = await startAdminOidcSignIn({
      ctx,
      tenant,
      providerId: `oidc-${tenant.slug}-staff`,
      host: 'Secure.Bank.Example',
      next: '/admin/keys',
      session: oldState.session,
      isReverify: true,
      ip: '192.0.2.8',
    });
    const row = await ctx.db.selectFrom('federated_signins').selectAll().where('id', '=', started.id).executeTakeFirstOrThrow();
    // The provider is asked to sign the admin in afresh (prompt=login), not to reuse its session.
    expect(row).toMatchObject({
      purpose: 'admin',
      switch_account: 1,
      replaces_session: oldState.session.id,
      message_id: null,
      return_host: 'secure.bank.example',
    });
    const claimed = await claimAtAuthHost({ ctx, id: started.id });
    const handoff = await recordIdentity({ ctx, signIn: claimed.signIn, outcome: 'ok', address: 'rita@x.example' });
    const done = await completeAdminOidcSignIn({ ctx, tenant, id: started.id, handoff, cookieValue: started.cookieValue });
    if (done.kind !== 'session') throw new Error(done.reason);
    expect((await readAdminSession({ ctx, tenant, value: old.value })).kind).toBe('none');
    const fresh = await readAdminSession({ ctx, tenant, value: done.cookie.value });
    expect(fresh.kind === 'ok' && Date.now() - fresh.session.verifiedAt < ADMIN_REVERIFY_MS).toBe(true);
  });
});

describe('the custom domain', () => {
  const config = {
    SEALPOST_BASE_DOMAIN: 'sealpost.example',
    authHost: 'auth.sealpost.example',
    SEALPOST_CNAME_TARGET: 'portal.sealpost.net',
  };

  it('sets and clears an exact host (audited before/after); refuses IPs, bad names, the service’s own hosts and another tenant’s', async () => {
    const tenant = await seedTenant(ctx);
    const other = await seedTenant(ctx);
    const set = (t: TTenant, domain: string | null) =>
      setCustomDomain({ db: ctx.db, config, tenant: t, domain, actor: 'admin:o@x.example' });
    await expect(set(tenant, ' Secure.Bank-One.Example. ')).resolves.toEqual({ customDomain: 'secure.bank-one.example' });
    expect((await getTenantByHost({ db: ctx.db, config, host: 'secure.bank-one.example:443' }))?.id).toBe(tenant.id);
    // Exact match only: a deeper name is no tenant.
    expect(await getTenantByHost({ db: ctx.db, config, host: 'x.secure.bank-one.example' })).toBeUndefined();
    for (const bad of [
      '192.0.2.1',
      '[::1]',
      '::1',
      '10.0.0.1.',
      'bank',
      'bank..example',
      '-bank.example',
      'bank.example/x',
      'a'.repeat(64) + '.example',
      'bank.123',
    ])
      await expect(set(other, bad), bad).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    for (const own of ['sealpost.example', 'acme.sealpost.example', 'auth.sealpost.example', 'portal.sealpost.net', 'x.localhost'])
      await expect(set(other, own), own).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(set(other, 'secure.bank-one.example')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(set(tenant, '')).resolves.toEqual({ customDomain: null });
    expect(await getTenantByHost({ db: ctx.db, config, host: 'secure.bank-one.example' })).toBeUndefined();
    await expect(set(other, 'secure.bank-one.example')).resolves.toEqual({ customDomain: 'secure.bank-one.example' });
    const changes = await events(tenant, 'custom_domain_changed');
    expect(
      changes.map((e) => [
        e.actor,
        JSON.parse(JSON.parse(e.data!).before).customDomain,
        JSON.parse(JSON.parse(e.data!).after).customDomain,
      ]),
    ).toEqual([
      ['admin:o@x.example', null, 'secure.bank-one.example'],
      ['admin:o@x.example', 'secure.bank-one.example', null],
    ]);
  });

  it('names the CNAME target from config, and says whether the domain resolves to it, within its time', async () => {
    expect(customDomainTarget(config, { slug: 'acme' })).toBe('portal.sealpost.net');
    expect(customDomainTarget({ SEALPOST_BASE_DOMAIN: 'sealpost.example' }, { slug: 'acme' })).toBe('acme.sealpost.example');
    const notFound = () => Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    const zone = (records: Record<string, { cname?: string[]; a?: string[] }>): TDomainResolver => ({
      resolveCname: async (n) => records[n]?.cname ?? notFound(),
      resolve4: async (n) => records[n]?.a ?? notFound(),
      resolve6: notFound,
    });
    const target = 'portal.sealpost.net';
    const check = (resolver: TDomainResolver, timeoutMs = 1000) =>
      checkCustomDomain({ domain: 'secure.bank.example', target, resolver, timeoutMs });
    await expect(check(zone({ 'secure.bank.example': { cname: ['Portal.Sealpost.NET.'] } }))).resolves.toEqual({
      state: 'ok',
      via: 'cname',
    });
    await expect(check(zone({ 'secure.bank.example': { a: ['198.51.100.4'] }, [target]: { a: ['198.51.100.4'] } }))).resolves.toEqual({
      state: 'ok',
      via: 'address',
    });
    await expect(
      check(zone({ 'secure.bank.example': { cname: ['old-host.example'] }, [target]: { a: ['198.51.100.4'] } })),
    ).resolves.toEqual({
      state: 'elsewhere',
      found: ['old-host.example'],
    });
    await expect(check(zone({}))).resolves.toEqual({ state: 'missing' });
    // A DNS server that never answers: 'unanswered' after the bound, not a hung page.
    const silent: TDomainResolver = {
      resolveCname: () => new Promise(() => {}),
      resolve4: () => new Promise(() => {}),
      resolve6: () => new Promise(() => {}),
    };
    const t0 = Date.now();
    await expect(check(silent, 200)).resolves.toEqual({ state: 'unanswered' });
    expect(Date.now() - t0).toBeLessThan(2000);
    const failing: TDomainResolver = {
      ...zone({}),
      resolveCname: () => Promise.reject(Object.assign(new Error('refused'), { code: 'EREFUSED' })),
    };
    await expect(check(failing)).resolves.toEqual({ state: 'unanswered' });
  });
});

describe('mail-flow rules from the console', () => {
  const form = (values: Record<string, string>) => new URLSearchParams(values);
  const events = (tenantId: string) =>
    ctx.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('type', 'like', 'rule_%').orderBy('id').execute();

  it('adds, changes, moves and removes through the form, each audited with the rule before and after', async () => {
    const tenant = await seedTenant(ctx);
    const actor = 'admin:olivia@acme.example';
    await saveAdminRule({
      db: ctx.db,
      tenantId: tenant.id,
      actor,
      form: form({
        name: 'Secure',
        'subject-contains': 'secure\n[encrypt]',
        'not-sender': 'hr@acme.example, legal.acme.example',
        action: 'encrypt',
        template: 'default',
        'remove-keyword': 'on',
        enabled: 'on',
      }),
    });
    await saveAdminRule({
      db: ctx.db,
      tenantId: tenant.id,
      actor,
      form: form({ name: 'Big', 'larger-than': '1000000', action: 'reject', 'reject-text': 'Too big', enabled: 'on', stop: 'on' }),
    });
    let set = await loadRuleSet({ db: ctx.db, tenantId: tenant.id });
    expect(set.rules.map((r) => r.name)).toEqual(['Secure', 'Big']);
    expect(set.rules[0]).toMatchObject({
      enabled: true,
      conditions: [
        { type: 'subjectContains', words: ['secure', '[encrypt]'], negate: false },
        { type: 'sender', senders: ['hr@acme.example', 'legal.acme.example'], negate: true },
      ],
      action: { kind: 'encrypt', template: 'default', removeKeyword: true },
    });
    expect(describeRule(set.rules[0]!)).toBe(
      'If the subject contains “secure” or “[encrypt]”, except if the sender is “hr@acme.example” or “legal.acme.example”: encrypt it with the template “default”, removing the keyword from the subject.',
    );
    expect(describeRule(set.rules[1]!)).toBe(
      'If the message is larger than 976.6 KB: reject it (“550 5.7.1 Too big”). Then stop: no later rule applies.',
    );

    // The form shows a stored rule as it was typed, and saving it unchanged changes nothing.
    const values = ruleToForm(set.rules[0]!)!;
    expect(values).toMatchObject({
      original: 'Secure',
      'subject-contains': 'secure\n[encrypt]',
      'not-sender': 'hr@acme.example\nlegal.acme.example',
    });
    await saveAdminRule({
      db: ctx.db,
      tenantId: tenant.id,
      actor,
      form: form({ ...values, name: 'Secure mail', 'recipient-outside': 'on' }),
    });
    await moveRule({ db: ctx.db, tenantId: tenant.id, name: 'Big', to: 1, actor });
    set = await loadRuleSet({ db: ctx.db, tenantId: tenant.id });
    expect(set.rules.map((r) => r.name)).toEqual(['Big', 'Secure mail']);
    expect(set.rules[1]!.conditions.map((c) => c.type)).toEqual(['subjectContains', 'recipientOutside', 'sender']);
    await removeRule({ db: ctx.db, tenantId: tenant.id, name: 'Big', actor });
    expect((await loadRuleSet({ db: ctx.db, tenantId: tenant.id })).rules.map((r) => r.name)).toEqual(['Secure mail']);

    const audit = await events(tenant.id);
    expect(audit.map((e) => [e.type, e.actor])).toEqual([
      ['rule_added', actor],
      ['rule_added', actor],
      ['rule_changed', actor],
      ['rule_moved', actor],
      ['rule_removed', actor],
    ]);
    const changed = JSON.parse(audit[2]!.data!);
    expect(changed.rule).toBe('Secure mail');
    expect(JSON.parse(changed.before)).toMatchObject({ position: 1, name: 'Secure' });
    expect(JSON.parse(changed.after)).toMatchObject({ position: 1, name: 'Secure mail' });
    const moved = JSON.parse(audit[3]!.data!);
    expect([JSON.parse(moved.before).position, JSON.parse(moved.after).position]).toEqual([2, 1]);
    const removed = JSON.parse(audit[4]!.data!);
    expect(JSON.parse(removed.before)).toMatchObject({ name: 'Big', action: { kind: 'reject', text: 'Too big' } });
    expect(removed.after).toBeNull();
  });

  it.each([
    [{ name: '', action: 'pass' }, /name: must not be empty/],
    [{ name: 'x', action: 'reject', 'reject-text': 'no\r\n250 ok' }, /action\.text: must be printable ASCII/],
    [{ name: 'x', action: 'pass', header: 'no-colon' }, /“A header contains a value \(Name: value, one a line\)” must be Name:value/],
    [
      { name: 'x', action: 'pass', 'not-larger-than': '12kb' },
      /“The message is larger than \(bytes\)” \(except if\) must be a number of bytes/,
    ],
    [{ name: 'x', action: 'pass', 'recipient-domain': 'not a domain' }, /recipientDomain\)\.domains\.0/],
    [{ name: 'x', action: 'explode' }, /“action” must be encrypt, pass or reject/],
  ])('refuses %j, nothing saved, the form keeps what was typed and says why', async (typed, reason) => {
    const tenant = await seedTenant(ctx);
    const values = { enabled: 'on', ...typed } as Record<string, string>;
    await expect(saveAdminRule({ db: ctx.db, tenantId: tenant.id, actor: 'admin:a@x.example', form: form(values) })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect((await loadRuleSet({ db: ctx.db, tenantId: tenant.id })).rules).toEqual([]);
    expect(await events(tenant.id)).toEqual([]);
    const url = new URL(refusedRuleFormUrl(form(values), 'BAD_REQUEST'), 'http://x');
    expect(url.pathname).toBe('/admin/rules/edit');
    const carried = Object.fromEntries(url.searchParams);
    for (const [k, v] of Object.entries(values)) if (v) expect(carried[k]).toBe(v);
    expect(ruleFormProblems(carried).join('\n')).toMatch(reason);
  });

  it('a second rule of one name is a conflict; an imported rule the form cannot show is not offered to it', async () => {
    const tenant = await seedTenant(ctx);
    const f = form({ name: 'One', action: 'pass', enabled: 'on' });
    await saveAdminRule({ db: ctx.db, tenantId: tenant.id, actor: 'cli', form: f });
    await expect(
      saveAdminRule({ db: ctx.db, tenantId: tenant.id, actor: 'cli', form: form({ name: 'one', action: 'pass' }) }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const twice = {
      name: 'Twice',
      conditions: [
        { type: 'subjectContains', words: ['a'] },
        { type: 'subjectContains', words: ['b'] },
      ],
      action: { kind: 'pass' },
    };
    await addRule({ db: ctx.db, tenantId: tenant.id, input: twice });
    const stored = (await loadRuleSet({ db: ctx.db, tenantId: tenant.id })).rules[1]!;
    expect(ruleToForm(stored)).toBeNull();
  });

  it('tests an uploaded message per recipient with the envelope given, and refuses a hostile one with the reason', async () => {
    const tenant = await seedTenant(ctx);
    await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'legal', input: {} });
    await addRule({
      db: ctx.db,
      tenantId: tenant.id,
      input: {
        name: 'Outside',
        conditions: [{ type: 'recipientOutside' }, { type: 'subjectContains', words: ['statement'] }],
        action: { kind: 'encrypt', template: 'legal' },
      },
    });
    await addRule({
      db: ctx.db,
      tenantId: tenant.id,
      input: {
        name: 'No partner',
        conditions: [{ type: 'recipientDomain', domains: ['partner.example'] }],
        action: { kind: 'reject', text: 'Not to partners' },
      },
    });
    const raw = sampleEml({ from: `Alice <alice@${tenant.mail_domain}>` });
    const outcome = await runRuleTest({
      db: ctx.db,
      tenantId: tenant.id,
      raw,
      sender: `Alice@${tenant.mail_domain}`,
      recipients: `bob@gmail.com\nsam@partner.example, colleague@${tenant.mail_domain}`,
      maxRecipients: 50,
    });
    expect(outcome).toEqual({
      kind: 'ok',
      results: [
        { recipient: 'bob@gmail.com', rule: 'Outside', action: 'encrypt', template: 'legal' },
        // Both rules match: a refusal wins over encryption (evaluate-rules.ts).
        { recipient: 'sam@partner.example', rule: 'No partner', action: 'reject', reply: '550 5.7.1 Not to partners' },
        { recipient: `colleague@${tenant.mail_domain}`, rule: null, action: 'pass' },
      ],
    });
    // Without an envelope: the message's own To (bob and carol).
    const fromHeaders = await runRuleTest({ db: ctx.db, tenantId: tenant.id, raw, sender: '', recipients: '', maxRecipients: 50 });
    expect(fromHeaders.kind === 'ok' && fromHeaders.results.map((r) => r.recipient)).toEqual(['bob@gmail.com', 'carol@yahoo.com']);
    for (const [hostile, reason] of [
      [Buffer.from('To: a@b.example\r\nTo: c@d.example\r\nFrom: x@acme.example\r\n\r\nhi'), /appears 2 times/],
      [Buffer.from(`From: x@acme.example\r\nSubject: ${'x'.repeat(300_000)}\r\n\r\nhi`), /header block is too large/],
      [Buffer.alloc(0), /empty/],
    ] as const) {
      const refused = await runRuleTest({ db: ctx.db, tenantId: tenant.id, raw: hostile, sender: '', recipients: '', maxRecipients: 50 });
      expect(refused.kind).toBe('refused');
      expect(refused.kind === 'refused' && refused.reason).toMatch(reason);
    }
    const badRecipient = await runRuleTest({
      db: ctx.db,
      tenantId: tenant.id,
      raw,
      sender: '',
      recipients: 'bob@gmail.com\r\nRCPT TO:<x>',
      maxRecipients: 50,
    });
    expect(badRecipient).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/is not a mail address/) });
    expect(
      await runRuleTest({ db: ctx.db, tenantId: tenant.id, raw, sender: '', recipients: 'a@x.example,b@x.example', maxRecipients: 1 }),
    ).toMatchObject({
      kind: 'refused',
    });
    // A dry run: nothing stored, nothing audited.
    expect(await ctx.db.selectFrom('messages').select('id').where('tenant_id', '=', tenant.id).execute()).toEqual([]);
    expect(
      await ctx.db.selectFrom('audit_events').select('id').where('tenant_id', '=', tenant.id).where('type', '=', 'rule_matched').execute(),
    ).toEqual([]);
  });
});

describe('connectors from the console', () => {
  it('adds and removes with before/after in the audit, and a refused form names the field', async () => {
    const tenant = await seedTenant(ctx);
    const actor = 'admin:olivia@acme.example';
    const input = connectorInputFromForm(
      new URLSearchParams({ domain: 'Partner.Example', host: 'mx.partner.example:2525', tls: 'verify', tlsName: '', internal: '' }),
    );
    await addConnector({ db: ctx.db, tenant, input, actor });
    expect(await listConnectors({ db: ctx.db, tenant })).toEqual([
      { domain: 'partner.example', host: 'mx.partner.example:2525', tls: 'verify', tlsName: null, internal: false },
    ]);
    await expect(addConnector({ db: ctx.db, tenant, input, actor })).rejects.toMatchObject({ code: 'CONFLICT' });
    await removeConnector({ db: ctx.db, tenant, domain: 'partner.example', actor });
    expect(await listConnectors({ db: ctx.db, tenant })).toEqual([]);
    const audit = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('type', 'like', 'connector_%')
      .orderBy('id')
      .execute();
    expect(audit.map((e) => [e.type, e.actor])).toEqual([
      ['connector_added', actor],
      ['connector_removed', actor],
    ]);
    expect(JSON.parse(JSON.parse(audit[0]!.data!).after)).toMatchObject({ domain: 'partner.example', tls: 'verify' });
    expect(JSON.parse(JSON.parse(audit[1]!.data!).before)).toMatchObject({ host: 'mx.partner.example:2525' });
    expect(connectorFormProblem({ domain: 'partner.example', tls: 'sometimes' }, tenant)).toMatch(
      /tls: must be opportunistic, required or verify/,
    );
    expect(connectorFormProblem({ domain: 'partner.example', tls: 'required', internal: 'on' }, tenant)).toMatch(/internal/);
    expect(connectorFormProblem({ domain: 'x', tls: 'verify', host: 'evil.example/path' }, tenant)).toMatch(/domain: .*host: /);
    expect(connectorFormProblem({ domain: 'partner.example', tls: 'opportunistic' }, tenant)).toBeNull();
  });
});

describe('message subjects on the messages page', () => {
  it('shows the subject of a shown-subject template, none for a hidden-subject one; sealed at rest, shredded by revocation', async () => {
    const tenant = await seedTenant(ctx);
    await setBranding({ db: ctx.db, tenantId: tenant.id, template: 'quiet', input: { look: { hideSubject: true } } });
    const raw = (subject: string) => sampleEml({ from: `Alice <alice@${tenant.mail_domain}>`, subject, attachment: false });
    const shown = await sendMessage({ ctx, tenant, raw: raw('Quarterly figures Ünïcode'), deliver: false });
    const hidden = await sendMessage({ ctx, tenant, raw: raw('Merger plans'), template: 'quiet', deliver: false });
    const page = await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: {} });
    const byId = new Map(page.items.map((m) => [m.id, m]));
    expect(byId.get(shown.messageId)!.subject).toBe('Quarterly figures Ünïcode');
    expect(byId.get(hidden.messageId)!.subject).toBeNull();
    expect(
      (await getAdminMessageOrThrow({ db: ctx.db, master: ctx.master, tenantId: tenant.id, messageId: shown.messageId })).subject,
    ).toBe('Quarterly figures Ünïcode');
    // Stored sealed: neither subject is in the rows; the hidden one is not stored at all.
    const rows = await ctx.db.selectFrom('messages').select(['id', 'subject_sealed']).where('tenant_id', '=', tenant.id).execute();
    expect(rows.find((r) => r.id === hidden.messageId)!.subject_sealed).toBeNull();
    const sealed = Buffer.from(rows.find((r) => r.id === shown.messageId)!.subject_sealed!);
    expect(sealed.toString('latin1')).not.toContain('Quarterly');
    // A sealed subject copied onto another message's row does not open there.
    await ctx.db.updateTable('messages').set({ subject_sealed: sealed }).where('id', '=', hidden.messageId).execute();
    const copied = await listAdminMessages({ db: ctx.db, master: ctx.master, tenantId: tenant.id, search: {} });
    expect(copied.items.find((m) => m.id === hidden.messageId)!.subject).toBeNull();
    await revokeMessage({ db: ctx.db, messageId: shown.messageId });
    const after = await ctx.db.selectFrom('messages').select('subject_sealed').where('id', '=', shown.messageId).executeTakeFirstOrThrow();
    expect(after.subject_sealed).toBeNull();
  });
});
