// The operator commands of `node dist/apps/funnel/src/main.js <command>`: one module per command, registered here.
import yargs, { type CommandModule } from 'yargs';

import type { FunnelConfig } from '@funnel/config';

import { importCommand } from './import.command.js';
import { rollupsCommand } from './rollups.command.js';
import { tokensCommand } from './tokens.command.js';

/**
 * Every command's module; a new command is one more entry. `config` validates the settings when a command
 * first needs them (`import` talks to an api over HTTP and reads none).
 */
function commands(config: () => FunnelConfig): CommandModule[] {
  return [tokensCommand(config), rollupsCommand(config), importCommand as CommandModule];
}

/** The names the commands answer to: main.ts hands argv here when its first word is one of them. */
export const COMMAND_NAMES: readonly string[] = commands(() => {
  throw new Error('not read');
}).map((command) => String(command.command).split(' ')[0]!);

/**
 * Runs the command in `argv` (without node and script); resolves with the exit code: 1 when it failed,
 * else what its handler set in process.exitCode (0 by default).
 */
export async function runCli(argv: string[], config: () => FunnelConfig): Promise<number> {
  let failed = false;
  process.exitCode = 0;
  await yargs(argv)
    .scriptName('funnel')
    .command(commands(config))
    .demandCommand(1)
    .strict()
    .fail((message, error) => {
      failed = true;
      console.error(error ? error.message : `${message} (see --help)`);
    })
    .parseAsync()
    .catch((error: Error) => {
      failed = true;
      console.error(error.message);
    });
  return failed ? 1 : Number(process.exitCode ?? 0);
}
