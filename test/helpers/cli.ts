import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { withTestDatabase } from './installation';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'sealpost.mjs');

export type TCliEnv = Record<string, string>;

// Runs the real `sealpost` command, as a user would, and parses its JSON output.
export function runCli(args: string[], env: TCliEnv): { status: number; stdout: string; stderr: string; json: any } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...withTestDatabase(env) },
    encoding: 'utf8',
  });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

// The same, without blocking this process: for commands that talk to a server the test runs.
export async function runCliAsync(args: string[], env: TCliEnv): Promise<{ status: number; stdout: string; stderr: string; json: any }> {
  const child = startCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const status = await new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { status, stdout, stderr, json };
}

export function startCli(args: string[], env: TCliEnv): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...withTestDatabase(env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export const stopChild = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
