import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openBytes, sealBytes } from './aead';

// The top of the key hierarchy. A KMS plugs in by implementing this type: it wraps and unwraps
// tenant keys and names the key it used, so rotation can find what is still wrapped by an old one.
export type TMasterKeyProvider = {
  currentId: string;
  wrap(options: { plaintext: Uint8Array; aad: string }): Promise<{ wrapped: Buffer; keyId: string }>;
  unwrap(options: { wrapped: Uint8Array; aad: string; keyId: string }): Promise<Buffer>;
};

export const MASTER_KEY_FILE = 'master.key';
const NEXT_SUFFIX = '.next';
const PREVIOUS_SUFFIX = '.previous';

export const masterKeyId = (key: Uint8Array): string =>
  crypto.createHash('sha256').update('sealpost master key id\0').update(key).digest('hex').slice(0, 16);

const decodeKey = (text: string, where: string): Buffer => {
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length !== 32) throw new Error(`${where} does not hold a 32-byte base64url key`);
  return key;
};

export function createLocalMasterKeyProvider(keys: Buffer[]): TMasterKeyProvider {
  const [current] = keys;
  if (!current) throw new Error('no master key');
  const byId = new Map(keys.map((k) => [masterKeyId(k), k]));
  return {
    currentId: masterKeyId(current),
    async wrap({ plaintext, aad }) {
      return { wrapped: sealBytes({ key: current, plaintext, aad }), keyId: masterKeyId(current) };
    },
    async unwrap({ wrapped, aad, keyId }) {
      const key = byId.get(keyId);
      if (!key) throw new Error(`master key ${keyId} is not available`);
      return openBytes({ key, sealed: wrapped, aad });
    },
  };
}

export type LoadMasterKeysOptions = { dataDir: string; envKey?: string; envPreviousKey?: string };

// The ring, current key first: from the environment, or from key files in the data dir. A file
// key is generated with mode 0600 on first start; during a rotation the `.next` and `.previous`
// files keep every key that may still wrap a tenant key, so a crash at any step loses nothing.
export function loadMasterKeys({ dataDir, envKey, envPreviousKey }: LoadMasterKeysOptions): Buffer[] {
  if (envKey) {
    const keys = [decodeKey(envKey, 'SEALPOST_MASTER_KEY')];
    if (envPreviousKey) keys.push(decodeKey(envPreviousKey, 'SEALPOST_MASTER_KEY_PREVIOUS'));
    return keys;
  }
  const file = path.join(dataDir, MASTER_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) {
    writeKeyFile(file, crypto.randomBytes(32));
  }
  const keys = [decodeKey(fs.readFileSync(file, 'utf8'), file)];
  for (const suffix of [NEXT_SUFFIX, PREVIOUS_SUFFIX]) {
    if (fs.existsSync(file + suffix)) keys.push(decodeKey(fs.readFileSync(file + suffix, 'utf8'), file + suffix));
  }
  return keys;
}

// Creates the key file unless it exists, never replacing one: several instances starting at once
// on one data dir all end up with the key the first of them wrote (a rename would let the last
// one replace a key another had already wrapped tenant keys with). link() fails if it exists.
function writeKeyFile(file: string, key: Buffer): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

// Step 1 of a file-key rotation: a new key beside the current one, not yet in use. A `.next`
// left by an interrupted rotation may already wrap tenant keys, so it is resumed, never replaced.
export function stageNextMasterKey(dataDir: string): Buffer {
  const file = path.join(dataDir, MASTER_KEY_FILE) + NEXT_SUFFIX;
  if (!fs.existsSync(file)) writeKeyFile(file, crypto.randomBytes(32));
  return decodeKey(fs.readFileSync(file, 'utf8'), file);
}

// Step 3, after every tenant key is rewrapped under the next key: it becomes the current one.
export function promoteNextMasterKey(dataDir: string): void {
  const file = path.join(dataDir, MASTER_KEY_FILE);
  fs.renameSync(file, file + PREVIOUS_SUFFIX);
  fs.renameSync(file + NEXT_SUFFIX, file);
}

// Step 4: once nothing is wrapped by the previous key it is destroyed.
export function dropPreviousMasterKey(dataDir: string): void {
  const file = path.join(dataDir, MASTER_KEY_FILE) + PREVIOUS_SUFFIX;
  if (fs.existsSync(file)) fs.unlinkSync(file);
}
