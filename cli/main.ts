import { parseArgs } from 'node:util';
import { ConfigError, getConfig } from '../lib/env';
import { isAppError } from '../lib/errors';
import { createContext, type TContext } from '../lib/server/context';
import { COMMANDS, USAGE } from './commands';

// Argument parsing only: every command is one call into lib/.
async function main(argv: string[]): Promise<number> {
  const [group, maybeAction, ...rest] = argv;
  if (!group || group === 'help' || group === '--help' || group === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const twoWord = COMMANDS[`${group} ${maybeAction}`];
  const command = twoWord ?? COMMANDS[group];
  if (!command) {
    process.stderr.write(`sealpost: unknown command "${[group, maybeAction].filter(Boolean).join(' ')}"\n\n${USAGE}`);
    return 2;
  }
  const args = twoWord ? rest : argv.slice(1);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: command.options ?? {}, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`sealpost: ${(error as Error).message}\n`);
    return 2;
  }
  let ctx: TContext | undefined;
  try {
    ctx = await createContext({ config: getConfig() });
    const result = await command.run({ ctx, values: parsed.values as Record<string, string | undefined>, positionals: parsed.positionals });
    if (result !== undefined) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || isAppError(error)) {
      process.stderr.write(`sealpost: ${error.message}\n`);
      return error instanceof ConfigError ? 2 : 1;
    }
    process.stderr.write(`sealpost: unexpected error: ${(error as Error).message}\n`);
    return 1;
  } finally {
    if (command.keepsRunning !== true) await ctx?.db.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
