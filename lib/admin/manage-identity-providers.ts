import { recordAudit } from '../audit/record-audit';
import {
  addIdentityProvider,
  listIdentityProviders,
  removeIdentityProvider,
  setProviderForAdmins,
  type TAddIdentityProvider,
} from '../auth/federated/tenant-identity-providers';
import { AppError } from '../errors';
import type { TContext } from '../server/context';
import type { TAdminTable } from '../store/schema';
import type { TTenant } from '../tenants/tenants';
import { adminActor, hasRole } from './roles';

// The console's identity-provider changes: the CLI's own functions (the discovery check before
// a provider is saved, its secret sealed under the tenant key), each followed by its audit event
// with before and after. The client secret is never recorded.
export type TIdentityProviderChange =
  | { kind: 'add'; input: TAddIdentityProvider }
  | { kind: 'remove'; name: string }
  | { kind: 'setForAdmins'; name: string; forAdmins: boolean };

export type ChangeIdentityProviderOptions = {
  ctx: TContext;
  tenant: TTenant;
  change: TIdentityProviderChange;
  admin: Pick<TAdminTable, 'email' | 'role'>;
  now?: number;
};

// What an audit event keeps of a provider: what it is, never its secret.
const describe = (p: { name: string; displayName: string; issuer: string; clientId: string; forAdmins: boolean }) =>
  JSON.stringify({ name: p.name, displayName: p.displayName, issuer: p.issuer, clientId: p.clientId, forAdmins: p.forAdmins });

export async function changeIdentityProvider({ ctx, tenant, change, admin, now = Date.now() }: ChangeIdentityProviderOptions) {
  // A provider that signs admins in can assert any admin's address, an owner's too: only an owner
  // opens (or closes) the console to one.
  const touchesAdmins = change.kind === 'setForAdmins' || (change.kind === 'add' && change.input.forAdmins === true);
  if (touchesAdmins && !hasRole(admin.role, 'owner'))
    throw new AppError('FORBIDDEN', 'Only an owner lets a provider sign admins in to the console.');
  const before = change.kind === 'add' ? undefined : (await listIdentityProviders({ ctx, tenant })).find((p) => p.name === change.name);
  const audit = (type: 'identity_provider_added' | 'identity_provider_removed' | 'identity_provider_changed', after: string | null) =>
    recordAudit(ctx.db, {
      tenantId: tenant.id,
      type,
      actor: adminActor(admin),
      data: { before: before ? describe(before) : null, after },
      at: now,
    });
  switch (change.kind) {
    case 'add': {
      const added = await addIdentityProvider({ ctx, tenant, input: change.input, now });
      await audit('identity_provider_added', describe({ ...added, clientId: String(change.input.clientId) }));
      return added;
    }
    case 'remove': {
      const removed = await removeIdentityProvider({ ctx, tenant, name: change.name });
      await audit('identity_provider_removed', null);
      return removed;
    }
    case 'setForAdmins': {
      const changed = await setProviderForAdmins({ ctx, tenant, name: change.name, forAdmins: change.forAdmins });
      await audit('identity_provider_changed', before ? describe({ ...before, forAdmins: change.forAdmins }) : null);
      return changed;
    }
  }
}
