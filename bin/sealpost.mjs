#!/usr/bin/env node
// The `sealpost` command. Runs the TypeScript CLI through tsx; on a machine whose Node is older
// than Sealpost needs, it re-runs itself under the Node that ./run provisioned in .tools/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  const provisioned = path.join(root, '.tools', 'node', 'bin', 'node');
  if (!fs.existsSync(provisioned)) {
    console.error(`sealpost needs Node.js >= 22.12 (this is ${process.version}); run ./run start once to provision Node 24`);
    process.exit(2);
  }
  const r = spawnSync(provisioned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { register } = await import('tsx/esm/api');
register({ tsconfig: path.join(root, 'tsconfig.json') });
await import(path.join(root, 'cli', 'main.ts'));
