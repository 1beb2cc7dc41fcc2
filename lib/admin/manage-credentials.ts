import { recordAudit } from '../audit/record-audit';
import { createRelayCredential, revokeRelayCredential } from '../relay/relay-credentials';
import type { TDb } from '../store/db';
import { createApiKey } from '../tenants/api-keys';
import { revokeApiKey } from '../tenants/revoke-api-key';
import type { TTenant } from '../tenants/tenants';

// The console's credential changes: the CLI's own functions, each followed by its audit event.
// The secrets themselves are returned once and never recorded.
export type TCredentialChange =
  | { kind: 'createApiKey'; label: string }
  | { kind: 'revokeApiKey'; id: string }
  | { kind: 'createRelayCredential' }
  | { kind: 'revokeRelayCredential'; username: string };

export type ChangeCredentialOptions = { db: TDb; tenant: TTenant; change: TCredentialChange; actor: string; now?: number };

export async function changeCredential({ db, tenant, change, actor, now = Date.now() }: ChangeCredentialOptions) {
  const audit = (type: Parameters<typeof recordAudit>[1]['type'], data: Record<string, string | null>) =>
    recordAudit(db, { tenantId: tenant.id, type, actor, data, at: now });
  switch (change.kind) {
    case 'createApiKey': {
      const created = await createApiKey({ db, tenantId: tenant.id, name: change.label.trim() || 'default', now });
      await audit('api_key_created', {
        before: null,
        after: JSON.stringify({ id: created.id, prefix: created.prefix, label: change.label.trim() || 'default' }),
      });
      return { secret: created.key, name: created.prefix };
    }
    case 'revokeApiKey':
      await revokeApiKey({ db, tenantId: tenant.id, id: change.id, now });
      await audit('api_key_revoked', { before: JSON.stringify({ id: change.id }), after: null });
      return null;
    case 'createRelayCredential': {
      const created = await createRelayCredential({ db, tenant, now });
      await audit('relay_credential_created', { before: null, after: JSON.stringify({ username: created.username }) });
      return { secret: created.password, name: created.username };
    }
    case 'revokeRelayCredential':
      await revokeRelayCredential({ db, tenant, username: change.username, now });
      await audit('relay_credential_revoked', { before: JSON.stringify({ username: change.username }), after: null });
      return null;
  }
}
