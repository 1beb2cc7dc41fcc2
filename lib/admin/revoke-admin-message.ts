import { revokeMessage } from '../envelope/revoke-message';
import type { TMasterKeyProvider } from '../envelope/master-key';
import type { TDb } from '../store/db';
import type { TAdminSession } from './admin-session';
import { getAdminMessageOrThrow } from './get-admin-message';
import { adminActor } from './roles';

export type RevokeAdminMessageOptions = {
  db: TDb;
  master: TMasterKeyProvider;
  tenantId: string;
  messageId: string;
  session: TAdminSession;
  now?: number;
};

// The CLI's revocation (the content key shredded, an audit event), for a message of this tenant
// only, in the admin's name.
export async function revokeAdminMessage({ db, master, tenantId, messageId, session, now = Date.now() }: RevokeAdminMessageOptions) {
  await getAdminMessageOrThrow({ db, master, tenantId, messageId, now });
  return revokeMessage({ db, messageId, actor: adminActor(session.admin), now });
}
