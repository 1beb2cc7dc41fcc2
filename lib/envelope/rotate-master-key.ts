import {
  createLocalMasterKeyProvider,
  dropPreviousMasterKey,
  loadMasterKeys,
  promoteNextMasterKey,
  stageNextMasterKey,
} from './master-key';
import { clearTenantKeyCache, rewrapTenantKeys, type TKeyContext } from './tenant-keys';

export type RotateMasterKeyOptions = TKeyContext & {
  dataDir: string;
  // Keys from the environment (SEALPOST_MASTER_KEY): the operator has already swapped them.
  source: 'environment' | 'files';
};

export type TMasterKeyRotation = { masterKeyId: string; rewrapped: number };

// Re-wraps every tenant key under a new master key. With keys from the environment the operator
// has set the new key as SEALPOST_MASTER_KEY and the old one as SEALPOST_MASTER_KEY_PREVIOUS, and
// the ring in `master` already holds both. With key files: stage the next key, re-wrap under it
// in one transaction, then promote it and drop the old one. A crash between any two steps leaves
// every key that wraps something on disk.
export async function rotateMasterKey({ db, master, dataDir, source }: RotateMasterKeyOptions): Promise<TMasterKeyRotation> {
  if (source === 'environment') {
    const rewrapped = await rewrapTenantKeys({ db, master, from: master });
    return { masterKeyId: master.currentId, rewrapped };
  }
  const nextKey = stageNextMasterKey(dataDir);
  const next = createLocalMasterKeyProvider([nextKey, ...loadMasterKeys({ dataDir })]);
  const rewrapped = await rewrapTenantKeys({ db, master: next, from: next });
  promoteNextMasterKey(dataDir);
  dropPreviousMasterKey(dataDir);
  // Tenant keys unwrapped under the old ring must not outlive it in this process.
  clearTenantKeyCache();
  return { masterKeyId: next.currentId, rewrapped };
}
