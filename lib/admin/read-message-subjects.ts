import type { TMasterKeyProvider } from '../envelope/master-key';
import { getTenantKey } from '../envelope/tenant-keys';
import { openSubject } from '../messages/message-subject';
import type { TDb } from '../store/db';

export type ReadMessageSubjectsOptions = {
  db: TDb;
  master: TMasterKeyProvider;
  tenantId: string;
  rows: ReadonlyArray<{ id: string; key_version: number; subject_sealed: Buffer | null }>;
};

// The subjects of a page of messages, by message id: opened with the tenant key of each message's
// version (one unwrap per version, cached). A message without one — its template hides subjects,
// or it was revoked or expired — is not in the map; nor is one whose sealed subject fails to open
// (a row written by hand): the page shows no subject rather than failing.
export async function readMessageSubjects({ db, master, tenantId, rows }: ReadMessageSubjectsOptions): Promise<Map<string, string>> {
  const subjects = new Map<string, string>();
  const sealed = rows.filter((r) => r.subject_sealed !== null);
  const versions = [...new Set(sealed.map((r) => r.key_version))];
  const keys = new Map(
    await Promise.all(versions.map(async (version) => [version, await getTenantKey({ db, master, tenantId, version })] as const)),
  );
  for (const row of sealed) {
    try {
      subjects.set(
        row.id,
        openSubject({ tenantKey: keys.get(row.key_version)!, tenantId, messageId: row.id, sealed: row.subject_sealed! }),
      );
    } catch {
      // Left out (see above).
    }
  }
  return subjects;
}
